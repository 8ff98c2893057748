import type { SecurityFindingsResponse } from '@mcpproxy/contracts';
import type { ManagementService } from '@mcpproxy/management';
import type { HttpApp } from './app.js';
import { scanServerRoute, securityFindingsRoute } from './routes.js';
import type { ToolScanService } from './tool-scanner.js';

/** What the security routes read. */
export interface SecurityRoutesDeps {
  /** The tool scanner; without one the routes answer that the scanner is off. */
  scanner?: Pick<ToolScanService, 'findings' | 'rescan'> | undefined;
  /** Answers `NOT_FOUND` for an unknown server when there is no scanner. */
  management: Pick<ManagementService, 'getServer'>;
  config: { snapshot(): { security: { scanner: boolean; block_on: 'hard' | 'none' } } };
}

/** `GET /security/findings` and `POST /servers/{name}/scan` (docs/security.md, the tool scanner). */
export function mountSecurityRoutes(api: HttpApp, { scanner, management, config }: SecurityRoutesDeps): void {
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
}
