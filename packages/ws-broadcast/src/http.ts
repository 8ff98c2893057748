import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData } from 'ws';

export const problemBody = (status: number, code: string, detail: string): string =>
  JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code, detail });

/** Answers an upgrade request with a plain HTTP error and closes the socket: no `101` is ever written. */
export function rejectSocket(socket: Duplex, status: number, code: string, detail: string): void {
  if (socket.destroyed) return;
  const body = problemBody(status, code, detail);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function problemResponse(status: number, code: string, detail: string): Response {
  return new Response(problemBody(status, code, detail), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  });
}

export function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
