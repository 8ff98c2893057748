// Concrete values in a query ("read config.yaml", "open https://example.com", "ask @alice"), named by their kind,
// so that the query also asks for what tools call them: a file, a URL, a user (issue 15).

const EXT =
  'txt|md|json|jsonl|yaml|yml|toml|ini|cfg|conf|env|xml|csv|tsv|log|ts|tsx|js|jsx|mjs|cjs|py|go|rs|java|kt|c|h|cc|cpp|' +
  'hpp|cs|rb|php|swift|sh|bash|sql|html|css|scss|pdf|png|jpe?g|gif|svg|webp|mp3|mp4|wav|zip|tar|gz|tgz|lock|docx?|xlsx?';
const KINDS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^(?:https?:\/\/|www\.)\S+$|^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|app|edu|gov|co|ai)(?:\/\S*)?$/i,
    'url',
  ],
  [/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i, 'email'],
  [/^@[\w-]+$/, 'user'],
  // A path (leading /, ./, ~/ or two slashes) or a name with a known extension; `owner/repo` and `and/or` are not.
  [new RegExp(`^(?:[.~]{0,2}/|[\\w.*-]+/[\\w.*-]+/)[\\w.*/-]*$|^[\\w./*-]*\\.(?:${EXT})$`, 'i'), 'file'],
];

/** The kind words of the value-like tokens of `query` (split on white space, edge punctuation trimmed). */
export function valueKinds(query: string): string[] {
  const out: string[] = [];
  for (const raw of query.split(/\s+/)) {
    const token = raw.replace(/^[("'`]+|[)"'`,;:!?]+$|\.$/g, '');
    if (token.length < 3) continue;
    for (const [pattern, kind] of KINDS)
      if (pattern.test(token)) {
        out.push(kind);
        break;
      }
  }
  return out;
}
