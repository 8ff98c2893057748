import type { ServerSummary } from '@mcpproxy/contracts';
import { signal } from '@preact/signals';
import { type Component, type ComponentChildren, type FunctionComponent, h } from 'preact';

/**
 * `memo` of preact/compat without the rest of compat (~2 KB gzipped): the component re-renders only when a prop
 * changed identity (shallow compare), or when a signal it reads changes.
 */
export function memo<P extends object>(render: FunctionComponent<P>): FunctionComponent<P> {
  function shouldUpdate(this: Component<P>, next: P): boolean {
    const prev = this.props as Record<string, unknown>;
    for (const k in prev) if (!(k in next)) return true;
    for (const k in next) if (prev[k] !== (next as Record<string, unknown>)[k]) return true;
    return false;
  }
  return function Memo(this: Component<P>, props: P) {
    this.shouldComponentUpdate = shouldUpdate;
    return h(render, props);
  };
}

/** A state as a badge: its word is always shown, so colour is never the only cue. */
export function StateBadge({ state }: { state: ServerSummary['state'] | string }) {
  return <span class={`badge badge-${state}`}>{state}</span>;
}

/** A message for the person who acted: `ok` ones are announced politely, failures at once. */
export interface Notice {
  id: number;
  ok: boolean;
  text: string;
}

let nextId = 1;
/** The latest feedback of an action, shown under the toolbar of the view that acted. */
export const notice = signal<Notice | null>(null);

/** Shows the outcome of an action. */
export function announce(ok: boolean, text: string): void {
  notice.value = { id: nextId++, ok, text };
}

/** The feedback region: `role=status` for successes, `role=alert` for refusals and failures. */
export function NoticeBar() {
  const n = notice.value;
  return (
    <div class="notice-slot">
      <div role="status" aria-live="polite" class={n?.ok ? 'notice ok' : 'sr-only'}>
        {n?.ok ? n.text : ''}
      </div>
      <div role="alert" class={n && !n.ok ? 'notice error' : 'sr-only'}>
        {n && !n.ok ? n.text : ''}
      </div>
    </div>
  );
}

/** A section heading with its toolbar. */
export function ViewHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="view-header">
      <h2 id="view-title" tabIndex={-1}>
        {title}
      </h2>
      {children ? <div class="toolbar">{children}</div> : null}
    </div>
  );
}

/** A scrollable preformatted block, focusable so keyboard users can scroll it, named for screen readers. */
export function ScrollBlock({ label, kind, children }: { label: string; kind: string; children: ComponentChildren }) {
  return (
    <section class="scroll" aria-label={label}>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must be focusable to scroll by keyboard */}
      <pre class={kind} tabIndex={0}>
        {children}
      </pre>
    </section>
  );
}

/** Pretty JSON in a {@link ScrollBlock}. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <ScrollBlock label={label} kind="json">
      {JSON.stringify(value, null, 2)}
    </ScrollBlock>
  );
}
