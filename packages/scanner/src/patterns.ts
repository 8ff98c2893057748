// Vocabulary shared by the checks, written against folded text (lower case, one space, look-alikes folded).

/** Files and stores that hold credentials or private data. */
export const SECRET_PATH_RE =
  /\.ssh\b|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|(?<![\w.])\.env\b(?![\w-])|\.aws\/(?:credentials|config)\b|~\/\.aws\b|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.docker\/config\.json|\.kube\/config\b|\/etc\/(?:shadow|passwd|sudoers)\b|\bmcp\.json\b|claude_desktop_config\.json|\.cursor\/|\bkeychain\b|\bgh\/hosts\.yml|\.config\/gcloud|\.azure\/|\b(?:bash|zsh)_history\b|\blogin data\b|\bseed phrase\b|\bmnemonic phrase\b|\bwallet\.dat\b|\bprivate keys?\b/;

/** What must never leave the user's machine or conversation. */
// Keyword-first alternatives: a pattern that opens with optional words is tried at every position (slow).
export const SENSITIVE_RE =
  /\b(?:conversation|chat|transcript|(?:browsing|search) history|system prompt|(?:api|access|secret|private|ssh|auth) (?:keys?|tokens?)|api[_-]?keys?|secrets?|credentials?|passwords?|env(?:ironment)? variables|environment|contents? of|file contents|everything (?:you|the user)|personal (?:data|information|details)|session (?:cookies|tokens?)|cookies|seed phrase|email address(?:es)?|phone numbers?|calendar|contacts|keychain)\b|\b(?:user'?s?|their|your) (?:[\w-]+ ){0,2}(?:data|info|information|details|messages|files|calendar|emails?|contacts|history|requests|credentials|passwords?|keys?|tokens?|location|address|profile)\b|\b(?:previous|prior|last|recent|earlier)(?: \w+){0,2} (?:messages|requests|prompts|conversation)\b/;

/** A URL to a host other than this machine. */
export const OUTSIDE_URL_RE =
  /\b(?:https?|ftp|wss?):\/\/(?!(?:localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)(?:[:/]|$))[^\s/'"`<>]+/;

/** An e-mail address. */
export const EMAIL_RE = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/;

/** Shell that downloads, runs, reverse-connects or destroys. */
export const SHELL_RE =
  /\b(?:curl|wget)\b[^|\n]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b|\bbash\s+-i\b|\/dev\/tcp\/|\brm\s+-(?:rf|fr|r)\s+(?:[~/*]|\$home)|\bnc(?:at)?\s+(?:-\w+\s+)*[\w.]+\s+\d{2,5}\b|\b(?:iex|invoke-expression)\b|downloadstring\s*\(|\bpowershell\b[^\n]{0,40}\s-e(?:nc|ncodedcommand)?\s|\bpython[23]?\s+-c\s|\bchmod\s+\+x\b|\b(?:ba)?sh\s+-c\s|\bmkfifo\b|\bbase64\s+(?:-d|--decode)\b[^\n]{0,40}\|\s*(?:ba)?sh|\bdump-keychain\b|\bcat\s+[^\n|]{0,80}(?:\.ssh|id_rsa|\.env\b|credentials|\/etc\/(?:shadow|passwd))|\bscp\s+[^\n]{0,80}@|\bcurl\b[^\n]{0,120}\s(?:-d|--data(?:-binary)?|-f|--form|-t|--upload-file)\s*@|\bwget\b[^\n]{0,80}\s-o-?\s/;

/** What decoded text turned out to be, if it matters. */
export type PayloadKind = 'shell' | 'fetch' | 'secret_path';

/** Classifies folded decoded text: a shell command, a fetch to an outside host, or a secret path. */
export function classifyPayload(folded: string): { kind: PayloadKind; match: string } | undefined {
  const shell = SHELL_RE.exec(folded);
  if (shell) return { kind: 'shell', match: shell[0] };
  const secret = SECRET_PATH_RE.exec(folded);
  if (secret) return { kind: 'secret_path', match: secret[0] };
  const url = OUTSIDE_URL_RE.exec(folded);
  if (url) return { kind: 'fetch', match: url[0] };
  return undefined;
}
