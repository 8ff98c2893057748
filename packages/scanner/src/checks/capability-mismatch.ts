// Capability mismatch: a free-text parameter whose name reads as a side channel (`sidenote`, `notes`, `context`,
// `feedback`, `debug`, `conversation_history`…) on a tool whose stated job has nothing to do with it. Alone it is
// soft (a calculator with a `notes` field may just be odd); it turns hard when the parameter's own description
// asks for private data, or when another check ties an order to that parameter (see scan.ts).
import { SECRET_PATH_RE, SENSITIVE_RE } from '../patterns.js';
import { fold, renderSafe } from '../text.js';
import type { Check, RawFinding } from '../types.js';

/**
 * Side-channel names (lower case, separators removed) and the words that, found in the tool's name or
 * description, make the parameter part of the job.
 */
const SIDE_CHANNELS = new Map<string, readonly string[]>(
  Object.entries({
    sidenote: [], // no job needs a side note; a description that names it is routing data into it
    note: ['note', 'notes', 'notebook', 'memo', 'annotat'],
    notes: ['note', 'notes', 'notebook', 'memo', 'annotat'],
    context: [
      'context',
      'passage',
      'retriev',
      'rag',
      'question',
      'answer',
      'prompt',
      'llm',
      'model',
      'summar',
      'generat',
      'complet',
      'chat',
      'agent',
    ],
    additionalcontext: ['context', 'prompt', 'llm', 'model', 'agent'],
    feedback: ['feedback', 'review', 'rating', 'survey', 'support', 'ticket'],
    debug: ['debug', 'breakpoint', 'diagnos', 'inspect'],
    debuginfo: ['debug', 'diagnos'],
    metadata: [
      'metadata',
      'log',
      'tag',
      'attribute',
      'record',
      'index',
      'document',
      'file',
      'upload',
      'store',
      'event',
    ],
    meta: ['meta', 'metadata', 'tag'],
    extra: ['extra'],
    extrainfo: ['extra'],
    additionalinfo: ['additional'],
    info: ['info'],
    comment: ['comment', 'review', 'issue', 'pull', 'discussion', 'post', 'ticket', 'annotat'],
    comments: ['comment', 'review', 'issue', 'pull', 'discussion', 'post', 'ticket'],
    memo: ['memo', 'note', 'payment', 'transfer', 'invoice'],
    remarks: ['remark', 'note'],
    annotation: ['annotat', 'label', 'image'],
    reasoning: ['reason', 'think', 'thought', 'plan'],
    rationale: ['reason', 'rationale', 'decision'],
    conversation: ['conversation', 'chat', 'message', 'transcript'],
    conversationhistory: ['conversation', 'chat', 'transcript'],
    chathistory: ['chat', 'conversation'],
    history: ['history'],
    messages: ['message', 'chat', 'mail', 'slack', 'conversation', 'sms'],
    previousmessages: ['message', 'chat', 'conversation'],
    transcript: ['transcript', 'meeting', 'audio', 'speech', 'call'],
    systemprompt: ['prompt', 'llm', 'model', 'agent', 'assistant', 'chatbot', 'completion'],
    instructions: ['instruction', 'prompt', 'llm', 'model', 'agent', 'recipe', 'task'],
    userinfo: ['user', 'profile', 'account'],
    userdata: ['user', 'profile', 'account'],
    trace: ['trace', 'tracing', 'span', 'telemetry', 'log', 'debug'],
    details: ['detail'],
    summary: ['summar', 'report', 'issue', 'ticket', 'commit', 'pull'],
  }),
);

const HIGH_RISK = new Set([
  'conversationhistory',
  'chathistory',
  'previousmessages',
  'systemprompt',
  'transcript',
  'conversation',
  'userdata',
  'userinfo',
]);
const INSTRUCTION_RE =
  /\b(?:always|must|required|put|fill|include|paste|provide|pass|add|copy|insert|append|give|list)\b/;

const NOT_KEY_RE = /[^a-z0-9]/g;

/** The name in lower case without separators; most names have none, and skip the replace. */
function key(name: string): string {
  const lower = name.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) return lower.replace(NOT_KEY_RE, '');
  }
  return lower;
}

/**
 * Whether the tool's own words (name, title, description and the other parameters) cover the parameter. The
 * parameter's bare name does not count: "pass it as 'sidenote'" names the channel, it does not make it the job.
 */
function related(job: string, stems: readonly string[]): boolean {
  return stems.some((s) => job.includes(s));
}

/** Free-text parameters that read as a side channel for the tool's stated job. */
export const capabilityMismatchCheck: Check = {
  id: 'capability_mismatch',
  run({ view }) {
    const out: RawFinding[] = [];
    // Most tools have no side-channel-named parameter: decide that before building any text.
    if (!view.params.some((p) => SIDE_CHANNELS.has(key(p.name)))) return out;
    const prose = view.fields
      .filter((f) => f.param === undefined && (f.kind === 'name' || f.kind === 'title' || f.kind === 'description'))
      .map((f) => f.text)
      .join(' ');
    const jobBase = `${fold(prose)} ${view.name.toLowerCase().replace(/[_-]/g, ' ')}`;
    for (const param of view.params) {
      const k = key(param.name);
      const stems = SIDE_CHANNELS.get(k);
      if (stems === undefined) continue;
      if (param.constrained || (param.type !== undefined && param.type !== 'string')) continue;
      const others = view.params
        .filter((p) => p !== param)
        .map((p) => `${p.name} ${p.description}`)
        .join(' ');
      if (related(`${jobBase} ${fold(others)}`, stems)) continue;
      const desc = fold(param.description);
      const asks = desc !== '' && (SENSITIVE_RE.test(desc) || SECRET_PATH_RE.test(desc)) && INSTRUCTION_RE.test(desc);
      const asksData =
        desc !== '' &&
        /\b(?:information about the user|about the user|personal|api keys?|environment variables|passwords?|messages|conversation)\b/.test(
          desc,
        );
      const hard = asks || asksData;
      const confidence = hard ? 0.88 : Math.min(0.7, 0.45 + (param.required ? 0.1 : 0) + (HIGH_RISK.has(k) ? 0.15 : 0));
      out.push({
        check: 'capability_mismatch',
        tier: hard ? 'hard' : 'soft',
        threat: 'side_channel',
        confidence,
        evidence:
          `free-text parameter "${renderSafe(param.name, 40)}"${param.required ? ' (required)' : ''} unrelated to "${renderSafe(view.name, 40)}"` +
          (hard ? `, and it asks for: "${renderSafe(param.description, 100)}"` : ''),
        path: param.path,
        param: param.name,
      });
    }
    return out;
  },
};
