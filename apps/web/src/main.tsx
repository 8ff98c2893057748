import { createLiveClient, createRestClient } from '@mcpproxy/client';
import { render } from 'preact';

const api = createRestClient({ url: location.origin });
const live = createLiveClient({ url: location.origin });
render(<h1>mcpproxy {String(!!api && !!live)}</h1>, document.getElementById('app') as HTMLElement);
