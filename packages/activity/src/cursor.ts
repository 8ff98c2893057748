import { ActivityError } from './errors.js';

const PREFIX = 'a1.';

/** An opaque page cursor: the last id seen, versioned so its shape can change without misreading old ones. */
export function encodeCursor(id: number): string {
  return Buffer.from(`${PREFIX}${id}`).toString('base64url');
}

/** The id inside a cursor from {@link encodeCursor}; anything else is `ACTIVITY_INVALID_CURSOR` on `cursor`. */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^a1\.([1-9]\d{0,15})$/.exec(text);
  const id = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new ActivityError('ACTIVITY_INVALID_CURSOR', 'cursor: not a cursor returned by this log', {
      field: 'cursor',
    });
  }
  return id;
}
