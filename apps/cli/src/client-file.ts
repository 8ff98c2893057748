// MCP clients' own config files (VS Code's mcp.json and settings, Cursor's mcp.json, Claude Desktop's config) are
// JSONC: VS Code writes and accepts // and /* */ comments and trailing commas, and people copy such files between
// clients. `config import` reads them with Microsoft's jsonc-parser (the parser VS Code uses), and `connect` edits
// them in place with its `modify`/`applyEdits`: only the entry it changes is rewritten, so comments, key order and
// layout elsewhere stay as the user wrote them. mcpproxy's own config stays strict JSON (docs/configuration.md).

import { jsonEqual } from '@mcpproxy/contracts';
import {
  applyEdits,
  createScanner,
  type FormattingOptions,
  findNodeAtLocation,
  modify,
  type ParseError,
  parse,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import { CliError } from './cli-error.js';
import { readTextFile } from './context.js';

/** A client config file as read: its text, to edit, and its value. */
export interface ClientFile {
  readonly path: string;
  readonly text: string;
  readonly value: Record<string, unknown>;
}

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false };

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/**
 * Parses JSON with comments and trailing commas into an object; a `CONFIG_INVALID` error naming the file, the first
 * problem and where it is otherwise.
 */
export function parseClientConfig(path: string, file: string): Record<string, unknown> {
  const text = withoutBom(file);
  const errors: ParseError[] = [];
  const value = parse(text, errors, PARSE_OPTIONS) as unknown;
  const first = errors[0];
  const problem = first
    ? `${printParseErrorCode(first.error)} at ${lineAndColumn(text, first.offset)}`
    : typeof value !== 'object' || value === null || Array.isArray(value)
      ? 'not a JSON object'
      : undefined;
  if (problem !== undefined) {
    throw new CliError(
      'CONFIG_INVALID',
      `${path} is not valid JSON (comments and trailing commas are fine): ${problem}`,
      {
        hint: 'fix the file in its client or an editor, then run the command again',
      },
    );
  }
  return value as Record<string, unknown>;
}

/** The text without a leading byte-order mark, which Windows editors such as Notepad write and the parser refuses. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads a client's config file: `undefined` when it does not exist. */
export function readClientFile(path: string): ClientFile | undefined {
  const text = readTextFile(path, "run as the user whose client's file this is");
  return text === undefined ? undefined : { path, text, value: parseClientConfig(path, text) };
}

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read: its values, from its typings.
const LINE_COMMENT = 12;
const BLOCK_COMMENT = 13;
const EOF = 17;

/** Whether `text[start, end)` holds a comment. */
function hasComment(text: string, start = 0, end = text.length): boolean {
  const scanner = createScanner(text.slice(start, end), false);
  for (let kind: number = scanner.scan(); kind !== EOF; kind = scanner.scan()) {
    if (kind === LINE_COMMENT || kind === BLOCK_COMMENT) return true;
  }
  return false;
}

/** The file's own indentation and line ends, so that an added entry looks like its neighbours. */
function formattingOf(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 4, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

/**
 * The text of `file` with `value[key][name]` set to `entry` (removed when `entry` is undefined), every other byte
 * kept: comments, key order, layout (lines next to the change may be re-indented). `expected` is the whole value
 * the edit must give, and the edited text is parsed again to check it. When keeping the comments is not possible
 * (`key` holds something other than an object, with a comment inside; an edit that does not give `expected` in a
 * file with comments), this throws a `CONFIG_INVALID` error that names the file and says why, and nothing is
 * written.
 */
export function editClientFile(
  file: ClientFile,
  change: { key: string; name: string; entry: unknown },
  expected: Record<string, unknown>,
): string {
  const { path } = file;
  const text = withoutBom(file.text);
  const bom = file.text.slice(0, file.text.length - text.length); // kept as the file had it
  const { key, name, entry } = change;
  const current = file.value[key];
  const isObject = typeof current === 'object' && current !== null && !Array.isArray(current);
  let target: (string | number)[] = [key, name];
  let value: unknown = entry;
  if (!isObject) {
    // `key` is missing or holds something else (an array, a string): the whole value becomes an object.
    const root = current === undefined ? undefined : parseTree(text, [], PARSE_OPTIONS);
    const node = root ? findNodeAtLocation(root, [key]) : undefined;
    if (node && hasComment(text, node.offset, node.offset + node.length)) {
      throw new CliError(
        'CONFIG_INVALID',
        `${path}: "${key}" is not an object, and replacing it would drop the comments inside it`,
        {
          hint: `make "${key}" an object ({}) or take the comments out of it, then run the command again`,
        },
      );
    }
    target = [key];
    value = entry === undefined ? {} : { [name]: entry };
  }
  const edited = applyEdits(text, modify(text, target, value, { formattingOptions: formattingOf(text) }));
  const errors: ParseError[] = [];
  const result = parse(edited, errors, PARSE_OPTIONS) as unknown;
  if (errors.length === 0 && jsonEqual(result, expected)) return bom + edited;
  // The in-place edit went wrong (a file jsonc-parser's editor cannot handle, such as duplicate keys). Without
  // comments nothing is lost by writing the value out whole; with them, refuse rather than drop them.
  if (!hasComment(text)) return `${JSON.stringify(expected, null, 2)}\n`;
  throw new CliError('CONFIG_INVALID', `${path}: cannot change "${key}.${name}" in place without losing its comments`, {
    hint: 'edit the entry by hand (--dry-run prints it), or take the comments out and run the command again',
  });
}
