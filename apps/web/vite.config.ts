import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// `@mcpproxy/client` is bundled from its built dist through an alias rather than a package dependency: the server
// depends on this package (to serve its build) and the client's tests depend on the server, so a dependency here
// would close a cycle that turbo refuses. turbo.json orders `@mcpproxy/client#build` before this build instead.
const client = fileURLToPath(new URL('../../packages/client/dist/index.js', import.meta.url));

export default defineConfig({
  // Relative asset URLs: the same build works under /ui/ and at the root of any static host.
  base: './',
  plugins: [preact()],
  resolve: { alias: { '@mcpproxy/client': client } },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, sourcemap: false, reportCompressedSize: false },
});
