/** A server row as `/api/v1/servers` and the live stream carry it (only the fields the test reads). */
export interface ServerRow {
  name: string;
  state: string;
}

interface SseMessage {
  event: string;
  data: string;
}

/** Splits an SSE byte stream into messages (`event:` and `data:` fields; comments and ids ignored). */
async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
      end = buffer.indexOf('\n\n');
    }
  }
}

/**
 * Waits on the server's own live stream (`GET /events`) until server `name` is in `state`: in the `hello` snapshot
 * or in the summary an event carries. No polling; rejects after `timeoutMs` with the states seen.
 */
export async function waitForServerState(
  baseUrl: string,
  name: string,
  state: string,
  timeoutMs: number,
): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const seen: string[] = [];
  try {
    const response = await fetch(`${baseUrl}/events?server=${encodeURIComponent(name)}`, { signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`GET /events answered ${response.status}`);
    for await (const message of sseMessages(response.body)) {
      const payload = JSON.parse(message.data) as {
        snapshot?: { servers?: ServerRow[] };
        data?: { summary?: ServerRow };
      };
      const rows = message.event === 'hello' ? (payload.snapshot?.servers ?? []) : [payload.data?.summary];
      for (const row of rows) {
        if (row?.name !== name) continue;
        seen.push(row.state);
        if (row.state === state) return;
      }
    }
    throw new Error('the event stream ended');
  } catch (error) {
    if (abort.signal.aborted) {
      throw new Error(
        `${name} did not become ${state} within ${timeoutMs} ms (states seen: ${seen.join(', ') || 'none'})`,
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort(); // ends the stream if it is still open
  }
}
