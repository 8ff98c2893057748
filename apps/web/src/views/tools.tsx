import type { ToolCallResult } from '@mcpproxy/client';
import type { ToolSearchHit } from '@mcpproxy/contracts';
import { useSignal } from '@preact/signals';
import { refusal } from '../format.js';
import { argumentsOf, type FormField, fieldsOf } from '../schema-form.js';
import type { Session } from '../store.js';
import { JsonBlock, ViewHeader } from '../ui.js';

function Field({
  field,
  value,
  error,
  onChange,
}: {
  field: FormField;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (v: string | boolean) => void;
}) {
  const id = `arg-${field.name}`;
  const described =
    [field.description ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-describedby': described,
    'aria-invalid': error ? ('true' as const) : undefined,
    required: field.required,
  };
  const text = typeof value === 'string' ? value : field.defaultValue;
  let input: preact.JSX.Element;
  if (field.kind === 'boolean') {
    input = (
      <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
    );
  } else if (field.kind === 'enum') {
    input = (
      <select {...common} value={text} onChange={(e) => onChange(e.currentTarget.value)}>
        {field.required ? null : <option value="">(none)</option>}
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'json') {
    input = <textarea {...common} rows={3} value={text} onInput={(e) => onChange(e.currentTarget.value)} />;
  } else {
    input = (
      <input
        {...common}
        type={field.kind === 'string' ? 'text' : 'number'}
        step={field.kind === 'integer' ? 1 : 'any'}
        value={text}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
    );
  }
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>
        {field.name}
        {field.required ? ' (required)' : ''} <span class="hint">{field.kind}</span>
      </label>
      {input}
      {field.description ? (
        <small id={`${id}-hint`} class="hint">
          {field.description}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}

/** A form built from the tool's input schema; the result of the call is shown below it. */
function CallForm({ session, hit }: { session: Session; hit: ToolSearchHit }) {
  const fields = fieldsOf(hit.inputSchema);
  const values = useSignal<Record<string, string | boolean>>({});
  const errors = useSignal<Record<string, string>>({});
  const result = useSignal<{ ok: boolean; value: ToolCallResult | string } | null>(null);
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const withDefaults = Object.fromEntries(fields.map((f) => [f.name, values.value[f.name] ?? f.defaultValue]));
    const { args, errors: problems } = argumentsOf(fields, withDefaults);
    errors.value = Object.fromEntries(problems.map((p) => [p.name, p.message]));
    if (problems.length) return;
    busy.value = true;
    try {
      const r = await session.api.callTool(hit.name, args);
      result.value = { ok: r.isError !== true, value: r };
    } catch (error) {
      result.value = { ok: false, value: refusal(error) };
    } finally {
      busy.value = false;
    }
  };
  const r = result.value;
  const texts =
    r && typeof r.value !== 'string'
      ? (r.value.content as { type?: string; text?: string }[])
          .filter((c) => c.type === 'text')
          .map((c) => c.text ?? '')
      : [];
  return (
    <form class="form call-form" onSubmit={submit} noValidate aria-label={`Call ${hit.name}`}>
      <h3>Call {hit.name}</h3>
      {fields.length === 0 ? <p>This tool takes no arguments.</p> : null}
      {fields.map((f) => (
        <Field
          key={f.name}
          field={f}
          value={values.value[f.name]}
          error={errors.value[f.name]}
          onChange={(v) => {
            values.value = { ...values.value, [f.name]: v };
          }}
        />
      ))}
      <button type="submit" class="primary" disabled={busy.value}>
        Call {hit.tool}
      </button>
      <div class="call-result" role={r && !r.ok ? 'alert' : 'status'}>
        {r ? (
          typeof r.value === 'string' ? (
            <p class="notice error">{r.value}</p>
          ) : (
            <>
              <p class={`notice ${r.ok ? 'ok' : 'error'}`}>{r.ok ? 'Result' : 'The tool reported an error'}</p>
              {texts.length ? <pre class="result-text">{texts.join('\n')}</pre> : null}
              <details>
                <summary>Full result</summary>
                <JsonBlock value={r.value} label="Full result" />
              </details>
            </>
          )
        ) : null}
      </div>
    </form>
  );
}

/** Tool search (BM25 on the server) with each tool's schema, and a form to call the one picked. */
export function ToolsView({ session }: { session: Session }) {
  const query = useSignal('');
  const hits = useSignal<ToolSearchHit[] | null>(null);
  const error = useSignal<string | null>(null);
  const picked = useSignal<ToolSearchHit | null>(null);
  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await session.api.searchTools(query.value, { limit: 20 });
      hits.value = r.tools;
      error.value = null;
    } catch (err) {
      error.value = refusal(err);
    }
  };
  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Tools" />
      <form class="toolbar" aria-label="Search tools" onSubmit={search}>
        <label class="field-inline">
          Search tools
          <input
            type="search"
            value={query.value}
            onInput={(e) => {
              query.value = e.currentTarget.value;
            }}
            placeholder="what the tool should do"
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {error.value ? (
        <p role="alert" class="notice error">
          {error.value}
        </p>
      ) : null}
      {hits.value ? (
        <p role="status">{hits.value.length === 0 ? 'No tool matches.' : `${hits.value.length} tools found.`}</p>
      ) : null}
      <div class="tools-layout">
        <ul class="hits">
          {(hits.value ?? []).map((h) => (
            <li key={h.name} class={picked.value?.name === h.name ? 'picked' : ''} data-tool={h.name}>
              <div>
                <code>{h.name}</code> <span class="hint">score {h.score.toFixed(2)}</span>
              </div>
              <p>{h.description ?? ''}</p>
              <details>
                <summary>Input schema</summary>
                <JsonBlock value={h.inputSchema ?? {}} label={`Input schema of ${h.name}`} />
              </details>
              <button type="button" onClick={() => (picked.value = h)} aria-label={`Call ${h.name}`}>
                Call…
              </button>
            </li>
          ))}
        </ul>
        {picked.value ? <CallForm key={picked.value.name} session={session} hit={picked.value} /> : null}
      </div>
    </section>
  );
}
