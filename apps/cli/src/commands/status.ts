import { action, Command, examples, withTarget } from '../context.js';
import { renderPairs, stateColor } from '../output.js';

/** `mcpproxy status` */
export function statusCommand(): Command {
  const command = withTarget(
    new Command('status').description('is the server up, and how are its servers doing'),
  ).action(
    action(async (ctx) => {
      const status = await ctx.api().status();
      const { total, ready, error, disabled, quarantined } = status.servers;
      ctx.print(
        () =>
          renderPairs(
            [
              ['Server', ctx.target().url],
              ['State', status.app.state, status.app.state === 'running' ? 'green' : 'yellow'],
              ['Version', status.app.version],
              ['Started', status.app.started_at ?? '-'],
              ['Listen', status.listen || '(no HTTP)'],
              ['Servers', `${total} total`],
              ['  ready', String(ready), ready > 0 ? stateColor('ready') : undefined],
              ['  error', String(error), error > 0 ? stateColor('error') : undefined],
              ['  disabled', String(disabled)],
              ['  quarantined', String(quarantined), quarantined > 0 ? stateColor('quarantined') : undefined],
              ['Events', `epoch ${status.epoch}, seq ${status.seq}`],
            ],
            ctx.io,
          ),
        { url: ctx.target().url, ...status },
      );
      return 0;
    }),
  );
  return examples(command, ['mcpproxy status', 'mcpproxy status --url http://127.0.0.1:8080 -o json']);
}
