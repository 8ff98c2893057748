import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

// `@mcpproxy/client` is bundled from its built dist through an alias rather than a package dependency: the server
// depends on this package (to serve its build) and the client's tests depend on the server, so a dependency here
// would close a cycle that turbo refuses. turbo.json orders `@mcpproxy/client#build` before this build instead.
const client = fileURLToPath(new URL('../../packages/client/dist/index.js', import.meta.url));

/** zod's two modules that turn a schema into JSON Schema. */
const JSON_SCHEMA_MODULES = /[\\/]zod[\\/]v4[\\/]core[\\/](?:json-schema-processors|to-json-schema)\.js$/;

/**
 * The client checks answers with the zod schemas of `@mcpproxy/contracts`, and every classic zod schema carries a
 * path to JSON Schema output (`toJSONSchema()`, `~standard.jsonSchema`, getters such as `minLength`), so the bundler
 * keeps zod's JSON Schema code (33 KB; 5.5 KB of the gzipped bundle) although parsing never reaches it and nothing
 * in the dashboard asks a schema for JSON Schema. This build loads those two modules as stubs with the same exports,
 * each throwing if it is ever called; the browser tests parse every answer the dashboard reads through this zod.
 */
function zodWithoutJsonSchema(): Plugin {
  let stubbed = 0;
  return {
    name: 'mcpproxy:zod-without-json-schema',
    apply: 'build',
    buildStart() {
      stubbed = 0;
    },
    buildEnd() {
      // zod moved or renamed them: the bundle is ~5.5 KB larger again, and this says why.
      if (stubbed === 0) this.warn('no zod JSON Schema module was stubbed: check JSON_SCHEMA_MODULES against zod');
    },
    load(id) {
      if (!JSON_SCHEMA_MODULES.test(id)) return null;
      stubbed++;
      const source = readFileSync(id, 'utf8');
      const names = new Set<string>();
      for (const m of source.matchAll(/^export (?:const|let|function|class) (\w+)/gm)) names.add(m[1] as string);
      for (const m of source.matchAll(/^export \{([^}]*)\}/gm))
        for (const part of (m[1] as string).split(',')) {
          const name = part
            .trim()
            .split(/\s+as\s+/)
            .pop();
          if (name) names.add(name);
        }
      const stub = `const left = () => { throw new Error('zod JSON Schema output is left out of the dashboard build (apps/web/vite.config.ts)'); };`;
      return `${stub}\n${[...names].map((n) => `export { left as ${n} };`).join('\n')}\n`;
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the same build works under /ui/ and at the root of any static host.
  base: './',
  plugins: [preact(), zodWithoutJsonSchema()],
  resolve: { alias: { '@mcpproxy/client': client } },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    // One chunk and no dynamic imports: there is never a module to preload, so the polyfill (0.5 KB gzipped) is dead.
    modulePreload: { polyfill: false },
  },
});
