/**
 * Shared tsup config: every library builds `src/index.ts` to ESM with declarations for Node 20. A plain object
 * (tsup's `defineConfig` is the identity), so this package needs no dependency of its own.
 */
export default {
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
