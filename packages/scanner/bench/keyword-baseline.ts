// The baseline the issue argues against: a keyword list, as gateways that scan use today. A tool is flagged when
// its description or schema text contains any listed string, case-insensitively. Measured in the same run.
import type { UpstreamTool } from '@mcpproxy/contracts';

const KEYWORDS = [
  'ignore previous instructions',
  'ignore all previous',
  'disregard',
  'do not tell the user',
  "don't tell the user",
  'system prompt',
  '<important>',
  '~/.ssh',
  'id_rsa',
  '.env',
  '~/.aws',
  'mcp.json',
  'private key',
  'api key',
  'password',
  'base64',
  'curl ',
  'wget ',
  '| sh',
  'exfiltrate',
  'send_email',
  'bcc',
  'sidenote',
  '\u200b',
  '\u202e',
  'akia',
  'ghp_',
  'xoxb-',
  'sk-',
];

/** Whether the keyword list flags the tool. */
export function keywordFlags(tool: UpstreamTool): boolean {
  const text =
    `${tool.name} ${tool.title ?? ''} ${tool.description ?? ''} ${JSON.stringify(tool.inputSchema ?? {})}`.toLowerCase();
  if (/[\u{E0000}-\u{E007F}]/u.test(text)) return true;
  return KEYWORDS.some((k) => text.includes(k));
}
