import { ActivityError } from './errors.js';

/**
 * A decoded cursor: the `(time, id)` of the last row seen. Version-1 cursors (issued before reads were ordered by
 * time) carry the id only; the log looks its time up.
 */
export interface CursorKey {
  time?: number;
  id: number;
}

/** An opaque page cursor: the last row's time and id, versioned so its shape can change without misreading old ones. */
export function encodeCursor(time: number, id: number): string {
  return Buffer.from(`a2.${time}.${id}`).toString('base64url');
}

const POSITIVE = '[1-9]\\d{0,15}';
const V1 = new RegExp(`^a1\\.(${POSITIVE})$`);
const V2 = new RegExp(`^a2\\.(0|${POSITIVE})\\.(${POSITIVE})$`);

/** The key inside a cursor from {@link encodeCursor} (or a version-1 one); anything else is `ACTIVITY_INVALID_CURSOR`. */
export function decodeCursor(cursor: string): CursorKey {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const v2 = V2.exec(text);
  const v1 = v2 ? null : V1.exec(text);
  const id = Number(v2?.[2] ?? v1?.[1] ?? Number.NaN);
  const time = v2 ? Number(v2[1]) : undefined;
  if (!Number.isSafeInteger(id) || (time !== undefined && !Number.isSafeInteger(time))) {
    throw new ActivityError('ACTIVITY_INVALID_CURSOR', 'cursor: not a cursor returned by this log', {
      field: 'cursor',
    });
  }
  return time === undefined ? { id } : { time, id };
}
