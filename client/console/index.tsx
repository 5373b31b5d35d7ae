/** The console's entry: draws the app into #app (the page served at /console). */
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (!root) throw new Error('The console page has no #app element.');
render(<App />, root);
