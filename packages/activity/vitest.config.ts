export { default } from '@mcpproxy/vitest-config';
