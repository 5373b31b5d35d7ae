#!/usr/bin/env node
// The `parley` command. Parley runs its TypeScript directly (tsx), so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv);
// Exit explicitly: a library's idle timer must not keep a finished command alive.
process.exit(code);
