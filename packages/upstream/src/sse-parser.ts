/** One dispatched server-sent event: only events with at least one `data:` line are dispatched. */
export interface SseEvent {
  /** The event's own `id:` (not carried over from earlier events), `undefined` when it had none. */
  id: string | undefined;
  /** The `event:` type, `undefined` when absent or empty. */
  event: string | undefined;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/** Thrown by {@link SseParser.feed} when one event (or one unfinished line) grows past the parser's limit. */
export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`an SSE event from the upstream exceeds ${limit} characters`);
    this.name = 'SseEventTooLargeError';
  }
}

/** What {@link SseParser} reports. */
export interface SseParserOptions {
  onEvent: (event: SseEvent) => void;
  /** A valid `retry:` field (digits only), in milliseconds. */
  onRetry?: ((ms: number) => void) | undefined;
  /** Largest event (pending line plus joined data), in characters. */
  maxEventSize: number;
}

const LF = 10;
const SPACE = 32;
const BOM = 0xfeff;

/**
 * An incremental `text/event-stream` parser on decoded strings, with the semantics of `eventsource-parser` 3 (what
 * the SDK's client transport uses): lines end in LF, CR or CRLF (also split across chunks); a blank line dispatches
 * the event if it had a `data:` line; `id:` (without NUL), `event:` and the data buffer are reset after every blank
 * line; comments and unknown fields are ignored; an unterminated last event is never dispatched. A leading BOM is
 * skipped. Unlike the SDK's web-stream pipeline it allocates no stream objects and no per-chunk promises.
 */
export class SseParser {
  readonly #options: SseParserOptions;
  /** The unfinished line, in pieces (joined only once a line end arrives). */
  readonly #fragments: string[] = [];
  #fragmentsLength = 0;
  #first = true;
  #id: string | undefined;
  #event: string | undefined;
  #data = '';
  #dataLines = 0;

  constructor(options: SseParserOptions) {
    this.#options = options;
  }

  /** Feeds the next decoded chunk; dispatches every event it completes. Throws {@link SseEventTooLargeError}. */
  feed(chunk: string): void {
    if (this.#first && chunk.length > 0) {
      this.#first = false;
      if (chunk.charCodeAt(0) === BOM) chunk = chunk.slice(1);
    }
    let text = chunk;
    if (this.#fragments.length > 0) {
      if (chunk.indexOf('\n') === -1 && chunk.indexOf('\r') === -1) {
        this.#fragments.push(chunk);
        this.#fragmentsLength += chunk.length;
        this.#checkSize();
        return;
      }
      this.#fragments.push(chunk);
      text = this.#fragments.join('');
      this.#fragments.length = 0;
      this.#fragmentsLength = 0;
    }
    let start = 0;
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        if (lf === -1) break;
        end = lf;
        next = lf + 1;
      } else {
        // A CR at the very end may be the first half of a CRLF split across chunks: wait for the next chunk.
        if (cr === text.length - 1) break;
        end = cr;
        next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
      }
      this.#line(text, start, end);
      start = next;
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.#fragments.push(rest);
      this.#fragmentsLength = rest.length;
    }
    this.#checkSize();
  }

  #checkSize(): void {
    const { maxEventSize } = this.#options;
    if (this.#fragmentsLength + this.#data.length > maxEventSize) {
      this.#fragments.length = 0;
      this.#fragmentsLength = 0;
      this.#reset();
      throw new SseEventTooLargeError(maxEventSize);
    }
  }

  #reset(): void {
    this.#id = undefined;
    this.#event = undefined;
    this.#data = '';
    this.#dataLines = 0;
  }

  #line(text: string, start: number, end: number): void {
    if (start === end) {
      if (this.#dataLines > 0) {
        const event: SseEvent = { id: this.#id, event: this.#event, data: this.#data };
        this.#reset();
        this.#options.onEvent(event);
      } else {
        this.#reset();
      }
      return;
    }
    // `data:` first: nearly every line is one.
    if (text.startsWith('data:', start)) {
      this.#addData(text.slice(text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5, end));
      return;
    }
    const first = text.charCodeAt(start);
    if (first === 58 /* ':' comment */) return;
    const line = text.slice(start, end);
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    switch (field) {
      case 'data':
        this.#addData(value);
        break;
      case 'event':
        this.#event = value || undefined;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#options.onRetry?.(Number.parseInt(value, 10));
        break;
      default:
      // Unknown fields are ignored, as the spec says.
    }
  }

  #addData(value: string): void {
    this.#data = this.#dataLines === 0 ? value : `${this.#data}\n${value}`;
    this.#dataLines++;
    if (this.#data.length > this.#options.maxEventSize) {
      this.#fragments.length = 0;
      this.#fragmentsLength = 0;
      this.#reset();
      throw new SseEventTooLargeError(this.#options.maxEventSize);
    }
  }
}
