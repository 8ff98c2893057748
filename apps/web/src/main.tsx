import { render } from 'preact';
import { App, boot } from './app.js';
import './style.css';

boot();
render(<App />, document.getElementById('app') as HTMLElement);
