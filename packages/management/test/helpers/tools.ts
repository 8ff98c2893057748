// The toolbox every scripted server of these tests lists unless its script says otherwise; the scripted connector
// itself comes from @mcpproxy/testkit.
import { UpstreamError, type UpstreamTool } from '@mcpproxy/contracts';
import type { CallHandler } from '@mcpproxy/testkit';

/** Answers `{content:[{type:'text', text: message}]}`. */
export const echoTool: UpstreamTool = {
  name: 'echo',
  description: 'Echoes a message back to the caller',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
};
/** Answers with `isError: true` (a tool failing on its own terms). */
export const oopsTool: UpstreamTool = {
  name: 'oops',
  description: 'Always reports a tool error',
  inputSchema: { type: 'object', properties: {} },
};
/** Fails the call upstream (`CALL_FAILED`). */
export const crashTool: UpstreamTool = {
  name: 'crash',
  description: 'Fails the request upstream',
  inputSchema: { type: 'object', properties: {} },
};
/** Never answers; rejects once the call's signal aborts. */
export const hangTool: UpstreamTool = {
  name: 'hang',
  description: 'Never answers',
  inputSchema: { type: 'object', properties: {} },
};
export const defaultTools: readonly UpstreamTool[] = [echoTool, oopsTool, crashTool, hangTool];

/** What the toolbox's calls do: echo answers, oops reports a tool error, crash fails upstream, hang never answers. */
export const defaultCall: CallHandler = async (tool, args, options) => {
  switch (tool) {
    case 'echo':
      return { content: [{ type: 'text', text: `echo: ${String(args.message)}` }] };
    case 'oops':
      return { content: [{ type: 'text', text: 'bad input' }], isError: true };
    case 'crash':
      throw new UpstreamError('CALL_FAILED', 'the upstream failed the request');
    case 'hang':
      return new Promise((_, reject) => {
        const signal = options.signal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    default:
      return { content: [] };
  }
};
