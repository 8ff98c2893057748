import type { SecurityFindingsResponse } from '@mcpproxy/contracts';
import { ManagementError, type ManagementService } from '@mcpproxy/management';
import type { HttpApp } from './app.js';
import type { PromptPins } from './mcp/prompt-pins.js';
import { approvePromptsRoute, scanServerRoute, securityFindingsRoute, serverPromptsRoute } from './routes.js';
import type { ToolScanService } from './tool-scanner.js';

/** What the security routes read. */
export interface SecurityRoutesDeps {
  /** The tool scanner; without one the routes answer that the scanner is off. */
  scanner?: Pick<ToolScanService, 'findings' | 'rescan'> | undefined;
  /** Prompt pins of `/mcp/servers/{name}`; without them the prompt routes answer an empty list. */
  prompts?: Pick<PromptPins, 'list' | 'approve'> | undefined;
  /** Answers `NOT_FOUND` for an unknown server; approving prompts is a human-only operation of its gates. */
  management: Pick<ManagementService, 'getServer'>;
  config: {
    snapshot(): {
      read_only_mode: boolean;
      disable_management: boolean;
      security: { scanner: boolean; block_on: 'hard' | 'none' };
    };
  };
}

/**
 * `GET /security/findings` and `POST /servers/{name}/scan` (docs/security.md, the tool scanner), and the prompt pins
 * of `/mcp/servers/{name}`: `GET /servers/{name}/prompts`, `POST /servers/{name}/prompts/approve` (REST only: a person).
 */
export function mountSecurityRoutes(api: HttpApp, { scanner, prompts, management, config }: SecurityRoutesDeps): void {
  const off = (): SecurityFindingsResponse => ({
    scanner: false,
    block_on: config.snapshot().security.block_on,
    counts: { block: 0, review: 0, clean: 0 },
    results: [],
  });

  api.openapi(securityFindingsRoute, (c) => c.json(scanner ? scanner.findings() : off(), 200));

  api.openapi(scanServerRoute, async (c) => {
    const { name } = c.req.valid('param');
    if (!scanner) {
      management.getServer(name);
      return c.json(off(), 200);
    }
    return c.json(await scanner.rescan(name), 200);
  });

  api.openapi(serverPromptsRoute, (c) => {
    const { name } = c.req.valid('param');
    management.getServer(name);
    return c.json({ prompts: prompts ? prompts.list(name) : [] }, 200);
  });

  api.openapi(approvePromptsRoute, (c) => {
    const { name } = c.req.valid('param');
    management.getServer(name);
    // The gates of every management write (approving tools passes the same ones).
    const { read_only_mode, disable_management } = config.snapshot();
    if (read_only_mode) throw new ManagementError('READ_ONLY', 'read_only_mode is on: approving prompts is refused');
    if (disable_management) {
      throw new ManagementError('MANAGEMENT_DISABLED', 'disable_management is on: approving prompts is refused');
    }
    const body = (c.req.valid('json') as { prompts?: string[] } | undefined) ?? {};
    return c.json({ approved: prompts ? prompts.approve(name, body.prompts) : [] }, 200);
  });
}
