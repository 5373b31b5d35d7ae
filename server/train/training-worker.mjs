// Child-process entry of a training job: Parley runs its TypeScript directly (tsx).
import { register } from 'tsx/esm/api';

register();
await import('./training-worker.ts');
