import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityLog, ActivityQueryInput, ActivityStatus, Surface } from '../src/index.js';
import { ActivityError } from '../src/index.js';
import { openLog, prng, tempDir } from './helpers.js';

const SERVERS = ['github', 'fs', 'memory', 'everything'];
const TOOLS = ['search', 'read', 'write', 'echo', 'get-sum'];
const STATUSES: ActivityStatus[] = ['ok', 'ok', 'ok', 'error', 'timeout', 'rejected', 'circuit_open', 'blocked'];
const SURFACES: Surface[] = ['mcp', 'mcp_all', 'mcp_server', 'rest', 'cli'];
const N = 3000;
const START = Date.UTC(2026, 0, 1);

interface Truth {
  id: number;
  time: number;
  server: string;
  tool: string;
  status: ActivityStatus;
  session: string;
  client: string;
  duration: number;
  error: string | null;
}

let tmp: ReturnType<typeof tempDir>;
let log: ActivityLog;
const truth: Truth[] = [];

beforeAll(async () => {
  tmp = tempDir();
  ({ log } = openLog(tmp.dir, { clock: undefined }));
  const rand = prng(14);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  let time = START;
  for (let i = 1; i <= N; i++) {
    time += Math.floor(rand() * 2000); // several calls may share a millisecond
    const status = pick(STATUSES);
    const t: Truth = {
      id: i,
      time,
      server: pick(SERVERS),
      tool: pick(TOOLS),
      status,
      session: `s${Math.floor(rand() * 20)}`,
      client: pick(['claude', 'cursor', 'codex']),
      duration: Math.round(rand() * 5000) / 10,
      error: status === 'ok' ? null : `failure kind${i % 7} happened`,
    };
    truth.push(t);
    log.record({
      server: t.server,
      tool: t.tool,
      surface: pick(SURFACES),
      status: t.status,
      duration_ms: t.duration,
      session: t.session,
      client: { name: t.client, version: '1' },
      ...(t.error ? { error: { code: 'INTERNAL', message: t.error } } : {}),
      arguments: { n: i, word: i % 11 === 0 ? 'zebracorn' : 'plain' },
      result: 'done',
      time: t.time,
    });
  }
  await log.flush();
});
afterAll(async () => {
  await log.close();
  tmp[Symbol.dispose]();
});

const ms = (v: string | number | undefined) =>
  v === undefined ? undefined : typeof v === 'number' || /^\d+$/.test(v) ? Number(v) : Date.parse(v);

function expected(q: ActivityQueryInput): number[] {
  const since = ms(q.since);
  const until = ms(q.until);
  return truth
    .filter(
      (t) =>
        (q.server === undefined || t.server === q.server) &&
        (q.tool === undefined || t.tool === q.tool) &&
        (q.status === undefined || t.status === q.status) &&
        (q.session === undefined || t.session === q.session) &&
        (q.client === undefined || t.client === q.client) &&
        (since === undefined || t.time >= since) &&
        (until === undefined || t.time < until),
    )
    .map((t) => t.id)
    .reverse();
}

function allPages(q: ActivityQueryInput): number[] {
  const ids: number[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = log.list({ ...q, ...(cursor ? { cursor } : {}) });
    expect(page.records.length).toBeLessThanOrEqual(Number(q.limit ?? 50));
    ids.push(...page.records.map((r) => r.id));
    if (!page.next_cursor) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('pagination did not end');
}

describe('list', () => {
  const mid = START + N * 500;
  const cases: ActivityQueryInput[] = [
    {},
    { server: 'github' },
    { tool: 'get-sum', limit: 7 },
    { status: 'error', limit: 33 },
    { session: 's3', client: 'cursor' },
    { server: 'fs', status: 'ok', tool: 'read', limit: 5 },
    { since: mid, limit: 100 },
    { since: new Date(START + 100_000).toISOString(), until: String(mid), server: 'memory' },
    { server: 'nope' },
  ];
  for (const q of cases) {
    it(`pages through every match newest first, exactly once: ${JSON.stringify(q)}`, () => {
      const want = expected(q);
      expect(allPages(q)).toEqual(want);
    });
  }

  it('finds text in payloads, errors and tool names', () => {
    const zebra = allPages({ q: 'zebracorn', limit: 1000 });
    expect(zebra).toEqual(
      truth
        .filter((t) => t.id % 11 === 0)
        .map((t) => t.id)
        .reverse(),
    );
    const kind3 = allPages({ q: 'kind3 happened', status: 'timeout', limit: 1000 });
    expect(kind3).toEqual(
      truth
        .filter((t) => t.status === 'timeout' && t.error === 'failure kind3 happened')
        .map((t) => t.id)
        .reverse(),
    );
    expect(allPages({ q: 'get-sum', limit: 1000 })).toEqual(expected({ tool: 'get-sum' }));
    expect(allPages({ q: 'ZebraCorn', limit: 1000 })).toEqual(zebra); // words, case-insensitive
    expect(log.list({ q: 'zebra' }).records).toEqual([]); // whole words only, never a prefix scan
    expect(log.list({ q: 'happened kind3' }).records).toEqual([]); // words in order
    expect(log.list({ q: '"); DROP TABLE activity; --' }).records).toEqual([]);
    expect(log.list({ q: 'AND OR NOT *' }).records).toEqual([]);
  });

  it('refuses malformed filters with the field named', () => {
    const bad: Array<[unknown, string]> = [
      [{ status: 'weird' }, 'status'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ since: 'yesterday' }, 'since'],
      [{ until: -5 }, 'until'],
      [{ server: '' }, 'server'],
      [{ q: 'x'.repeat(300) }, 'q'],
      [{ severity: 'high' }, 'severity'],
    ];
    for (const [q, field] of bad) {
      let err: unknown;
      try {
        log.list(q as ActivityQueryInput);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(q)).toBeInstanceOf(ActivityError);
      expect(err).toMatchObject({ code: 'ACTIVITY_INVALID_QUERY', field });
    }
  });

  it('refuses malformed and forged cursors with the cursor field', () => {
    const forged = [
      'garbage!',
      'abc',
      Buffer.from('a1.0').toString('base64url'),
      Buffer.from('a1.-3').toString('base64url'),
      Buffer.from('a1.99999999999999999').toString('base64url'),
      Buffer.from('a2.5').toString('base64url'),
    ];
    for (const cursor of forged) {
      expect(() => log.list({ cursor }), cursor).toThrowError(
        expect.objectContaining({ code: 'ACTIVITY_INVALID_CURSOR', field: 'cursor' }),
      );
    }
    expect(() => log.get(0)).toThrowError(expect.objectContaining({ code: 'ACTIVITY_INVALID_QUERY', field: 'id' }));
  });
});

describe('stats', () => {
  function brute(groupBy: 'server' | 'tool', since: number, until: number, bucket: number) {
    const rank = (ds: number[], p: number) => {
      const s = [...ds].sort((a, b) => a - b);
      return s[Math.ceil((p / 100) * s.length) - 1] ?? null;
    };
    const figures = (ts: Truth[]) => ({
      calls: ts.length,
      errors: ts.filter((t) => t.status !== 'ok').length,
      p50_ms: rank(
        ts.map((t) => t.duration),
        50,
      ),
      p95_ms: rank(
        ts.map((t) => t.duration),
        95,
      ),
    });
    const inWindow = truth.filter((t) => t.time >= since && t.time < until);
    const keyOf = (t: Truth) => (groupBy === 'server' ? t.server : `${t.server}:${t.tool}`);
    const keys = [...new Set(inWindow.map(keyOf))].sort();
    return keys.map((key) => {
      const ts = inWindow.filter((t) => keyOf(t) === key);
      const byBucket = new Map<number, Truth[]>();
      for (const t of ts) {
        const b = Math.floor((t.time - since) / bucket);
        byBucket.set(b, [...(byBucket.get(b) ?? []), t]);
      }
      return {
        key,
        ...figures(ts),
        buckets: [...byBucket.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([b, bts]) => ({ start: new Date(since + b * bucket).toISOString(), ...figures(bts) })),
      };
    });
  }

  it('matches a brute-force count and nearest-rank percentiles per group and bucket', async () => {
    const until = START + 1_000_000;
    for (const groupBy of ['server', 'tool'] as const) {
      const stats = await log.stats({ groupBy, window: '10m', bucket: '1m', until });
      expect(stats.window_ms).toBe(600_000);
      expect(stats.bucket_ms).toBe(60_000);
      expect(stats.groups).toEqual(brute(groupBy, until - 600_000, until, 60_000));
      expect(stats.groups.length).toBeGreaterThan(3);
    }
    const whole = await log.stats({ window: '1h', until: START + 3_600_000 });
    expect(whole.bucket_ms).toBe(300_000);
    expect(whole.groups).toEqual(brute('server', START, START + 3_600_000, 300_000));
  });

  it('refuses malformed stats options with the field named', async () => {
    const bad: Array<[Parameters<ActivityLog['stats']>[0], string]> = [
      [{ window: 'forever' }, 'window'],
      [{ window: '1h', bucket: '1ms' }, 'bucket'],
      [{ groupBy: 'client' as 'tool' }, 'groupBy'],
      [{ window: '400d' }, 'window'],
    ];
    for (const [q, field] of bad) {
      await expect(log.stats(q)).rejects.toMatchObject({ code: 'ACTIVITY_INVALID_QUERY', field });
    }
  });
});

describe('export', () => {
  async function collect(it: AsyncIterable<string>): Promise<{ text: string; chunks: number }> {
    let text = '';
    let chunks = 0;
    for await (const c of it) {
      text += c;
      chunks++;
    }
    return { text, chunks };
  }

  it('streams every matching record oldest first as NDJSON, one page per chunk', async () => {
    const { text, chunks } = await collect(log.export({ format: 'ndjson', server: 'github' }));
    const ids = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(expected({ server: 'github' }).reverse());
    expect(chunks).toBeGreaterThan(1);
  });

  it('streams CSV with a header and quoted cells', async () => {
    const { text } = await collect(log.export({ format: 'csv', status: 'error' }));
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]?.startsWith('id,time,kind,server,tool')).toBe(true);
    expect(lines.length - 1).toBe(expected({ status: 'error' }).length);
    expect(lines[1]).toContain('"{""n"":');
  });

  it('refuses a bad format with the field named', () => {
    expect(() => log.export({ format: 'xml' as 'csv' })).toThrowError(expect.objectContaining({ field: 'format' }));
  });
});
