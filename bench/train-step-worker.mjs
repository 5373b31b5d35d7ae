// Worker entry: Parley runs its TypeScript directly (tsx), in worker threads too.
import { register } from 'tsx/esm/api';

register();
await import('./train-step-worker.ts');
