// Deterministic synthetic tool catalogues for the speed benchmarks: realistic names, descriptions and
// parameters drawn with a seeded PRNG, so every run indexes the same 10,000 tools.
import type { UpstreamTool } from '@mcpproxy/contracts';

/** mulberry32: small, fast, and good enough to draw words. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = [
  'github',
  'gitlab',
  'jira',
  'linear',
  'slack',
  'discord',
  'notion',
  'confluence',
  'gdrive',
  'dropbox',
  'postgres',
  'mysql',
  'sqlite',
  'redis',
  'mongodb',
  'elasticsearch',
  'stripe',
  'shopify',
  'salesforce',
  'hubspot',
  'zendesk',
  'sentry',
  'datadog',
  'grafana',
  'prometheus',
  'kubernetes',
  'docker',
  'aws',
  'gcp',
  'azure',
  'cloudflare',
  'vercel',
  'netlify',
  'figma',
  'airtable',
  'asana',
  'trello',
  'todoist',
  'calendar',
  'gmail',
  'outlook',
  'twilio',
  'sendgrid',
  'openweather',
  'maps',
  'spotify',
  'youtube',
  'twitter',
  'reddit',
  'arxiv',
  'wikipedia',
  'browser',
  'puppeteer',
  'playwright',
  'terraform',
  'ansible',
  'jenkins',
  'circleci',
  'snowflake',
  'bigquery',
];
const VERBS = [
  'get',
  'list',
  'create',
  'update',
  'delete',
  'search',
  'find',
  'read',
  'write',
  'send',
  'fetch',
  'query',
  'run',
  'start',
  'stop',
  'cancel',
  'archive',
  'restore',
  'upload',
  'download',
  'merge',
  'close',
  'open',
  'assign',
  'add',
  'remove',
  'set',
  'export',
  'import',
  'sync',
  'validate',
  'describe',
  'count',
  'move',
  'copy',
  'rename',
  'approve',
];
const NOUNS = [
  'issue',
  'pull_request',
  'comment',
  'repository',
  'branch',
  'commit',
  'file',
  'directory',
  'user',
  'team',
  'channel',
  'message',
  'thread',
  'page',
  'database',
  'table',
  'row',
  'record',
  'document',
  'collection',
  'index',
  'bucket',
  'object',
  'invoice',
  'customer',
  'payment',
  'subscription',
  'order',
  'product',
  'ticket',
  'incident',
  'alert',
  'dashboard',
  'metric',
  'log',
  'trace',
  'pod',
  'deployment',
  'service',
  'container',
  'image',
  'volume',
  'cluster',
  'secret',
  'webhook',
  'event',
  'calendar_event',
  'email',
  'contact',
  'task',
  'project',
  'label',
  'milestone',
  'release',
  'workflow',
  'job',
  'pipeline',
  'artifact',
  'snapshot',
  'backup',
  'report',
  'playlist',
  'video',
  'note',
];
const QUALIFIERS = ['', '', '', '', 'by_id', 'details', 'status', 'batch', 'history', 'permissions', 'metadata'];
const TEMPLATES = [
  (v: string, n: string, s: string) => `${cap(v)} a ${n} in ${s}.`,
  (v: string, n: string, s: string) => `${cap(v)} one or more ${n}s from the ${s} workspace and return them as JSON.`,
  (v: string, n: string, s: string) =>
    `Use this tool to ${v} ${n}s in ${s}. Supports pagination with a cursor and filtering by owner, state and date.`,
  (v: string, n: string, s: string) =>
    `${cap(v)} the ${n} identified by its ID. Returns the full ${n} object including timestamps, author and links. ` +
    `Requires ${s} credentials with the appropriate scope.`,
  (v: string, n: string, s: string) =>
    `${cap(v)}s ${n} records. Useful when an agent needs to ${v} ${n} data before acting on it in ${s}; ` +
    'fails with a clear error when the caller lacks access.',
];
const DETAILS = [
  'Results are sorted newest first.',
  'Archived items are excluded unless explicitly requested.',
  'Large responses are truncated to keep the context window small.',
  'Rate limits apply; retry after the period given in the error.',
  'Timestamps are returned in UTC.',
  'Supports markdown formatting in text bodies.',
  'Attachments are returned as links, not inline.',
  'The operation is idempotent and safe to retry.',
  'Deleted objects stay recoverable for thirty days.',
  'Only fields the caller has permission to view are included.',
  'Use a narrower filter when the workspace is large.',
  'Webhooks fire after the change is committed.',
  'Requires admin rights for organisation-wide changes.',
  'Emoji reactions and mentions are preserved.',
  'Binary content is base64 encoded.',
  'Combine with the matching list tool to discover identifiers first.',
  'Counts may lag behind by a few seconds on busy projects.',
  'Nested children are expanded one level deep.',
  'Geographic coordinates use WGS84 latitude and longitude.',
  'Currency amounts are integers in the smallest unit, such as cents.',
  'Streaming logs are tailed for at most sixty seconds.',
  'Container images are referenced by digest when available.',
  'Spreadsheet formulas are evaluated before export.',
  'Calendar invitations notify every attendee by email.',
  'Vector embeddings are computed on the server side.',
  'Audit entries record who performed each action and when.',
  'Drafts are not visible to other collaborators until published.',
  'Translations fall back to English when a locale is missing.',
  'Thumbnails are generated asynchronously after upload.',
  'Secrets are masked in every response.',
];
const PARAMS: Array<[string, string]> = [
  ['id', 'Unique identifier of the resource'],
  ['owner', 'Account or organisation that owns the resource'],
  ['repo', 'Repository name'],
  ['query', 'Free-text search query'],
  ['limit', 'Maximum number of results to return'],
  ['cursor', 'Pagination cursor from a previous call'],
  ['state', 'Filter by state: open, closed or all'],
  ['title', 'Human-readable title'],
  ['body', 'Markdown body text'],
  ['path', 'Path of the file relative to the root'],
  ['content', 'New content to write'],
  ['channelId', 'Channel to post into'],
  ['userId', 'User the action applies to'],
  ['since', 'Only items updated after this ISO 8601 timestamp'],
  ['labels', 'Labels to attach'],
  ['dryRun', 'Preview the change without applying it'],
  ['timeoutSeconds', 'Give up after this many seconds'],
  ['namespace', 'Kubernetes namespace'],
  ['region', 'Cloud region, for example eu-west-1'],
  ['sql', 'SQL statement to execute'],
];

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One synthetic server's name and tools. */
export interface SyntheticServer {
  server: string;
  tools: UpstreamTool[];
}

/** `servers × toolsPerServer` tools, the same for the same seed. */
export function syntheticServers(servers: number, toolsPerServer: number, seed = 42): SyntheticServer[] {
  const rng = createRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const out: SyntheticServer[] = [];
  for (let s = 0; s < servers; s++) {
    const service = SERVICES[s % SERVICES.length] as string;
    const server = s < SERVICES.length ? service : `${service}-${Math.floor(s / SERVICES.length)}`;
    const tools: UpstreamTool[] = [];
    const names = new Set<string>();
    while (tools.length < toolsPerServer) {
      const verb = pick(VERBS);
      const noun = pick(NOUNS);
      const qualifier = pick(QUALIFIERS);
      let name = [verb, noun, qualifier].filter((p) => p !== '').join('_');
      if (names.has(name)) name = `${name}_${tools.length}`;
      names.add(name);
      const properties: Record<string, unknown> = {};
      const nParams = 1 + Math.floor(rng() * 5);
      for (let p = 0; p < nParams; p++) {
        const [param, description] = pick(PARAMS);
        properties[param] = { type: 'string', description };
      }
      tools.push({
        name,
        description: [
          pick(TEMPLATES)(verb, noun.replace(/_/g, ' '), service),
          ...Array.from({ length: Math.floor(rng() * 3) }, () => pick(DETAILS)),
        ].join(' '),
        inputSchema: { type: 'object', properties, required: Object.keys(properties).slice(0, 1) },
      });
    }
    out.push({ server, tools });
  }
  return out;
}

/** Agent-like queries over the synthetic vocabulary, some with words the catalogue never uses. */
export function syntheticQueries(count: number, seed = 7): string[] {
  const rng = createRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const shapes = [
    () => `${pick(VERBS)} ${pick(NOUNS).replace(/_/g, ' ')}`,
    () => `${pick(VERBS)} ${pick(NOUNS).replace(/_/g, ' ')}s in ${pick(SERVICES)}`,
    () => `how do I ${pick(VERBS)} the ${pick(NOUNS).replace(/_/g, ' ')} ${pick(QUALIFIERS).replace(/_/g, ' ')}`,
    () => `${pick(NOUNS).replace(/_/g, ' ')} ${pick(PARAMS)[0]}`,
    () => `find every open ${pick(NOUNS).replace(/_/g, ' ')} assigned to me and summarise it`,
  ];
  return Array.from({ length: count }, () => pick(shapes)());
}
