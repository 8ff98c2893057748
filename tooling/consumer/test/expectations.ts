/**
 * What each README quick start must print, block by block: every pattern must match its block's stdout. The
 * patterns are the observable promises of the README's own comments, so a quick start that stops doing what it
 * says fails. A public package that is not listed here still has its quick start run (it must exit 0 and print
 * something); list it to check what it prints.
 */
export const EXPECTED_OUTPUT: Readonly<Record<string, readonly (readonly RegExp[])[]>> = {
  '@mcpproxy/contracts': [[/^10000$/m, /^github$/m, /mcpServers\[1\]\.name: .*\(invalid_format\)/]],
  '@mcpproxy/events': [[/^1 starting → running$/m, /^2\n2$/m]],
  '@mcpproxy/stateview': [
    [/v2 after server_state_changed: \[ 'github=ready' ]/, /^ready$/m, /^2 3$/m, /"servers":\[\{"name":"github"/],
  ],
  '@mcpproxy/search': [[/\[ 'filesystem:list_directory', 'filesystem:read_text_file' ]/, /^2$/m]],
  '@mcpproxy/ws-broadcast': [[/^hello \[ 'github=idle' ]$/m, /^server_state_changed github idle → connecting$/m]],
  '@mcpproxy/configsvc': [
    [
      /^listen 127\.0\.0\.1:8080$/m,
      /^servers 0 → 1$/m,
      /config_reloaded \{ source: 'api', ok: true/,
      /^saved \{[\s\S]*"name": "everything"/m,
    ],
  ],
  '@mcpproxy/upstream': [[/^stdio \d+ tools$/m, /^[0-9a-f]{64}$/m, /text: 'Echo: hello'/]],
  '@mcpproxy/actor': [
    [/everything idle → connecting/, /everything connecting → ready/, /^ready \[[\s\S]*'echo'/m, /text: 'Echo: hi'/],
    [/state: 'error'/, /retry_count: 1/],
  ],
  '@mcpproxy/management': [
    [/\[ 'everything:echo' ]/, /text: 'Echo: hi'/, /total: 1, ready: 1/, /^MANAGEMENT_DISABLED$|^HUMAN_ONLY$/m],
  ],
  '@mcpproxy/client': [
    [
      /\[ 'everything: ready' ]/,
      /^NOT_FOUND 404$/m,
      /^everything=ready$/m,
      /^\d+ server_state_changed everything$/m,
      /^everything=connecting$/m,
      /^\d+ connection_established everything$/m,
    ],
  ],
  '@mcpproxy/activity': [
    [
      /\[ 'management server_added -', 'tool_call create_issue timeout' ]/,
      /^\{"query":"is:open label:bug","token":"\*\*\*"\} found 3 issues with \*\*\*$/m,
      /^1$/m,
      /\[ 'github calls=2 errors=1' ]/,
      /^ACTIVITY_INVALID_CURSOR cursor$/m,
    ],
  ],
  '@mcpproxy/server': [[/^http:\/\/127\.0\.0\.1:\d+$/m, /^readyz 200$/m, /^added 201$/m, /\[ 'remote=quarantined' ]/]],
};
