import type { NewServer } from '@mcpproxy/client';
import { useSignal } from '@preact/signals';
import { refusal } from '../format.js';
import type { Session } from '../store.js';
import { ViewHeader } from '../ui.js';

type FieldName = 'name' | 'command' | 'args' | 'env' | 'url' | 'protocol' | 'headers' | 'groups' | 'working_dir';

/** `KEY=VALUE` (or `Key: value`) lines into an object; blank lines are skipped. */
function pairs(text: string, separator: '=' | ':'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(separator);
    if (at < 0) out[line.trim()] = '';
    else out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** The form field a server validation issue is about: its path's first key after any `mcpServers[i].` prefix. */
export function fieldOfIssue(path: string): string {
  const bare = path.replace(/^mcpServers(\[\d+\]|\.[^.[]+)\.?/, '');
  return bare.split(/[.[]/)[0] ?? '';
}

/**
 * Adds a server (stdio command or URL). The server validates the entry exactly as it validates the config file;
 * each issue it names is shown on its field.
 */
export function AddView({ session }: { session: Session }) {
  const kind = useSignal<'stdio' | 'url'>('stdio');
  const values = useSignal<Record<FieldName, string>>({
    name: '',
    command: '',
    args: '',
    env: '',
    url: '',
    protocol: 'auto',
    headers: '',
    groups: '',
    working_dir: '',
  });
  const quarantined = useSignal(true);
  const errors = useSignal<Record<string, string>>({});
  const outcome = useSignal<{ ok: boolean; text: string } | null>(null);
  const busy = useSignal(false);

  const set =
    (field: FieldName) => (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement }) => {
      values.value = { ...values.value, [field]: e.currentTarget.value };
    };

  const submit = async (e: Event) => {
    e.preventDefault();
    const v = values.value;
    const entry: Record<string, unknown> = { name: v.name.trim() };
    if (kind.value === 'stdio') {
      entry.protocol = 'stdio';
      entry.command = v.command.trim();
      const args = v.args.split('\n').filter((a) => a.trim() !== '');
      if (args.length) entry.args = args;
      if (v.env.trim()) entry.env = pairs(v.env, '=');
      if (v.working_dir.trim()) entry.working_dir = v.working_dir.trim();
    } else {
      entry.url = v.url.trim();
      entry.protocol = v.protocol;
      if (v.headers.trim()) entry.headers = pairs(v.headers, ':');
    }
    const groups = v.groups
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    if (groups.length) entry.groups = groups;
    if (!quarantined.value) entry.quarantined = false;
    busy.value = true;
    try {
      const summary = await session.api.addServer(entry as NewServer);
      errors.value = {};
      outcome.value = { ok: true, text: `Added ${summary.name} (${summary.state}).` };
    } catch (error) {
      const issues = (error as { issues?: { path: string; message: string; rule: string }[] }).issues ?? [];
      const byField: Record<string, string> = {};
      const other: string[] = [];
      for (const issue of issues) {
        let field = fieldOfIssue(issue.path);
        if (field === 'protocol' && kind.value === 'stdio') field = 'command';
        if (field in values.value)
          byField[field] = byField[field] ? `${byField[field]}; ${issue.message}` : issue.message;
        else other.push(`${issue.path || '(entry)'}: ${issue.message}`);
      }
      errors.value = byField;
      outcome.value = { ok: false, text: other.length ? `${refusal(error)} ${other.join('; ')}` : refusal(error) };
      const first = Object.keys(byField)[0];
      if (first) document.getElementById(`add-${first}`)?.focus();
    } finally {
      busy.value = false;
    }
  };

  const field = (
    name: FieldName,
    label: string,
    opts: { multiline?: boolean; hint?: string; required?: boolean } = {},
  ) => {
    const id = `add-${name}`;
    const error = errors.value[name];
    const described =
      [opts.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
    const common = {
      id,
      name,
      value: values.value[name],
      onInput: set(name),
      'aria-invalid': error ? ('true' as const) : undefined,
      'aria-describedby': described,
      required: opts.required,
    };
    return (
      <div class={`field${error ? ' invalid' : ''}`}>
        <label for={id}>{label}</label>
        {opts.multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
        {opts.hint ? (
          <small id={`${id}-hint`} class="hint">
            {opts.hint}
          </small>
        ) : null}
        {error ? (
          <small id={`${id}-error`} class="field-error">
            {error}
          </small>
        ) : null}
      </div>
    );
  };

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Add a server" />
      <form class="form" onSubmit={submit} noValidate>
        {field('name', 'Name', { hint: 'letters, digits, -, _ and .; at most 64', required: true })}
        <fieldset class="field">
          <legend>Transport</legend>
          <label class="choice">
            <input type="radio" name="kind" checked={kind.value === 'stdio'} onChange={() => (kind.value = 'stdio')} />
            Command (stdio)
          </label>
          <label class="choice">
            <input type="radio" name="kind" checked={kind.value === 'url'} onChange={() => (kind.value = 'url')} />
            URL (Streamable HTTP or SSE)
          </label>
        </fieldset>
        {kind.value === 'stdio' ? (
          <>
            {field('command', 'Command', { hint: 'run without a shell, e.g. npx or /usr/bin/node' })}
            {field('args', 'Arguments', { multiline: true, hint: 'one per line' })}
            {field('env', 'Environment', { multiline: true, hint: 'KEY=VALUE, one per line (values are secrets)' })}
            {field('working_dir', 'Working directory')}
          </>
        ) : (
          <>
            {field('url', 'URL', { hint: 'e.g. https://example.com/mcp' })}
            <div class="field">
              <label for="add-protocol">Protocol</label>
              <select id="add-protocol" value={values.value.protocol} onChange={set('protocol')}>
                <option value="auto">auto (Streamable HTTP, then SSE)</option>
                <option value="streamable-http">Streamable HTTP</option>
                <option value="sse">SSE (legacy)</option>
              </select>
            </div>
            {field('headers', 'Headers', { multiline: true, hint: 'Name: value, one per line (values are secrets)' })}
          </>
        )}
        {field('groups', 'Groups', { hint: 'comma-separated' })}
        <label class="choice">
          <input
            type="checkbox"
            checked={quarantined.value}
            onChange={(e) => (quarantined.value = e.currentTarget.checked)}
          />
          Keep it quarantined until I approve it (nothing is run or contacted before)
        </label>
        <div class="toolbar">
          <button type="submit" class="primary" disabled={busy.value}>
            Add server
          </button>
        </div>
        <div
          role={outcome.value?.ok === false ? 'alert' : 'status'}
          class={outcome.value ? `notice ${outcome.value.ok ? 'ok' : 'error'}` : ''}
        >
          {outcome.value?.text ?? ''}
        </div>
      </form>
    </section>
  );
}
