import type { SecurityFindingsResponse, ServerSummary, ToolInfo } from '@mcpproxy/contracts';
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { Findings, findingsCount, TierBadge } from '../findings.js';
import { type DiffLine, diffLines, refusal, stableJson } from '../format.js';
import type { Session } from '../store.js';
import { announce, NoticeBar, ScrollBlock, ViewHeader } from '../ui.js';

/** The definition a tool had when it was last approved, when the server still knows it. */
interface Definition {
  description?: string | undefined;
  inputSchema?: Record<string, unknown> | undefined;
  outputSchema?: Record<string, unknown> | undefined;
}

function definitionText(d: Definition): string {
  return [
    `description: ${d.description ?? ''}`,
    `inputSchema: ${stableJson(d.inputSchema ?? {})}`,
    ...(d.outputSchema ? [`outputSchema: ${stableJson(d.outputSchema)}`] : []),
  ].join('\n');
}

function Diff({ lines, label }: { lines: DiffLine[]; label: string }) {
  return (
    <ScrollBlock label={label} kind="diff">
      {lines.map((l, i) => (
        <span key={i} class={`diff-${l.kind}`}>
          {l.kind === 'removed' ? (
            <del>{`- ${l.text}`}</del>
          ) : l.kind === 'added' ? (
            <ins>{`+ ${l.text}`}</ins>
          ) : (
            `  ${l.text}`
          )}
          {'\n'}
        </span>
      ))}
    </ScrollBlock>
  );
}

function ToolReview({ tool, onApprove }: { tool: ToolInfo; onApprove: () => void }) {
  const before: Definition | undefined = tool.approved_definition;
  const after = definitionText(tool);
  const noteId = `scan-${tool.server}-${tool.name}`;
  const findings = tool.findings ?? [];
  return (
    <li class="review" data-tool={`${tool.server}:${tool.name}`}>
      <h4>
        <code>{tool.name}</code> <span class={`badge badge-${tool.approval}`}>{tool.approval}</span>{' '}
        <TierBadge findings={findings} />
      </h4>
      {findings.length ? (
        <div class="scan">
          <p id={noteId}>
            <strong>
              The tool scanner {tool.verdict === 'block' ? 'holds' : 'marks'} this definition ({tool.verdict}):{' '}
              {findingsCount(findings.length)}.
            </strong>{' '}
            {tool.verdict === 'block'
              ? 'Approving it overrides these findings: the tool becomes callable despite them.'
              : 'Approving it accepts them.'}
          </p>
          <Findings findings={findings} label={`Scanner findings on ${tool.name}`} />
        </div>
      ) : null}
      {tool.approval === 'changed' ? (
        before ? (
          <Diff lines={diffLines(definitionText(before), after)} label={`Changes to ${tool.name} since approval`} />
        ) : (
          <>
            <p class="hint">
              The approved definition is no longer known (only its hash, {tool.approved_hash?.slice(0, 12)}…, was kept);
              the current one:
            </p>
            <Diff
              lines={diffLines('', after).filter((l) => l.text !== '')}
              label={`Current definition of ${tool.name}`}
            />
          </>
        )
      ) : (
        <Diff lines={diffLines('', after).filter((l) => l.text !== '')} label={`Definition of new tool ${tool.name}`} />
      )}
      <button
        type="button"
        onClick={onApprove}
        aria-label={`Approve ${tool.name} of ${tool.server}`}
        aria-describedby={findings.length ? noteId : undefined}
      >
        Approve {tool.name}
      </button>
      {tool.verdict === 'block' ? <strong> (overrides the tool scanner)</strong> : null}
    </li>
  );
}

/** Tools of servers with pending or changed tools, re-read when such a server's row changes. */
function ServerReview({ session, server }: { session: Session; server: ServerSummary }) {
  const tools = useSignal<ToolInfo[] | null>(null);
  const toolChange = session.toolChange.value;
  useEffect(() => {
    const controller = new AbortController();
    session.api.serverTools(server.name, { signal: controller.signal }).then(
      (r) => {
        tools.value = r.tools.filter((t) => t.approval !== 'approved');
      },
      () => {},
    );
    return () => controller.abort();
    // Re-read when the row changes, and on a scanner hold or an approval (which may leave the counts alone).
  }, [server, toolChange]);
  const held = tools.value?.filter((t) => t.verdict === 'block').length ?? 0;
  const approve = async (names?: string[]) => {
    try {
      const r = await session.api.approveTools(server.name, names);
      announce(true, `Approved ${r.approved.length ? r.approved.join(', ') : 'nothing'} on ${server.name}.`);
    } catch (error) {
      announce(false, `Approve on ${server.name}: ${refusal(error)}`);
    }
  };
  return (
    <article class="card" aria-label={`Tools to review on ${server.name}`}>
      <h3>
        {server.name}: {server.changed_tools} changed, {server.pending_tools} new
      </h3>
      <button type="button" onClick={() => void approve()}>
        Approve all tools of {server.name}
      </button>
      {held ? (
        <p class="scan">{held} of them held by the tool scanner: approving all overrides their findings.</p>
      ) : null}
      {tools.value === null ? (
        <p>Loading…</p>
      ) : (
        <ul class="reviews">
          {tools.value.map((t) => (
            <ToolReview key={t.name} tool={t} onApprove={() => void approve([t.name])} />
          ))}
        </ul>
      )}
    </article>
  );
}

/** Every tool definition the scanner has findings on (`GET /security/findings`), re-read on tool changes. */
function SecuritySummary({ session }: { session: Session }) {
  const data = useSignal<SecurityFindingsResponse | null>(null);
  const toolChange = session.toolChange.value;
  useEffect(() => {
    const controller = new AbortController();
    session.api.securityFindings({ signal: controller.signal }).then(
      (r) => {
        data.value = r;
      },
      () => {},
    );
    return () => controller.abort();
  }, [toolChange]);
  const r = data.value;
  if (!r) return null;
  return (
    <section aria-labelledby="security-title" class="security">
      <h3 id="security-title">Tool scanner findings</h3>
      <p>
        {r.scanner
          ? `${r.counts.block} blocking, ${r.counts.review} to review (block_on "${r.block_on}").`
          : 'The tool scanner is off (security.scanner: false).'}
      </p>
      <ul class="plain">
        {r.results.map((t) => (
          <li key={`${t.server}:${t.tool}`} data-finding={`${t.server}:${t.tool}`}>
            <details>
              <summary>
                <code>
                  {t.server}:{t.tool}
                </code>{' '}
                {t.verdict}, {t.approval ?? 'unlisted'}
                {t.overridden ? ', approved by a person over its findings' : ''} ({findingsCount(t.findings.length)})
              </summary>
              <Findings findings={t.findings} label={`Scanner findings on ${t.server}:${t.tool}`} />
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Quarantined servers (approve them) and tools waiting for review (approve one or all, after reading the diff). */
export function QuarantineView({ session }: { session: Session }) {
  const servers = session.servers.value;
  const quarantined = servers.filter((s) => s.quarantined);
  const reviewing = servers.filter((s) => s.pending_tools + s.changed_tools > 0);
  const unquarantine = async (name: string) => {
    try {
      await session.api.unquarantineServer(name);
      announce(true, `${name} approved: it starts now.`);
    } catch (error) {
      announce(false, `Approve ${name}: ${refusal(error)}`);
    }
  };
  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Quarantine review" />
      <NoticeBar />
      <h3>Quarantined servers ({quarantined.length})</h3>
      {quarantined.length === 0 ? (
        <p>No server is quarantined.</p>
      ) : (
        <ul class="plain">
          {quarantined.map((s) => (
            <li key={s.name}>
              <a href={`#/servers/${encodeURIComponent(s.name)}`}>{s.name}</a> ({s.protocol}){' '}
              <button type="button" onClick={() => void unquarantine(s.name)} aria-label={`Approve server ${s.name}`}>
                Approve server
              </button>
            </li>
          ))}
        </ul>
      )}
      <h3>Tools to review</h3>
      {reviewing.length === 0 ? <p>No tool is waiting for review.</p> : null}
      {reviewing.map((s) => (
        <ServerReview key={s.name} session={session} server={s} />
      ))}
      <SecuritySummary session={session} />
    </section>
  );
}
