export { default } from '@mcpproxy/tsup-config';
