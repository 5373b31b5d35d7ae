#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs dependencies when
// node_modules is missing or older than package-lock.json. Plain JavaScript with no
// dependencies, because it runs before any are installed.
//   node server/cli/ensure-deps.mjs          install if needed
//   node server/cli/ensure-deps.mjs --stamp  record the current lock file (npm's postinstall)
//   … --stamp --native                       and build the optional native addons (native/build.mjs,
//                                            where present; it never fails the install)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const lockFile = path.join(root, 'package-lock.json');
const stampFile = path.join(root, 'node_modules', '.parley-lock-sha256');

const lockHash = () => createHash('sha256').update(readFileSync(lockFile)).digest('hex');
const stamped = () => (existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : null);

if (process.argv.includes('--stamp')) {
  if (existsSync(path.dirname(stampFile))) writeFileSync(stampFile, `${lockHash()}\n`);
  // An image that copies only package files before `npm ci` has no native/ yet: nothing to build.
  const native = path.join(root, 'native', 'build.mjs');
  if (process.argv.includes('--native') && existsSync(native))
    spawnSync(process.execPath, [native], { cwd: root, stdio: 'inherit' });
  process.exit(0);
}

if (stamped() !== lockHash()) {
  process.stderr.write('parley: installing dependencies (npm ci)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('parley: `npm ci` failed; see the output above.\n');
    process.exit(result.status ?? 1);
  }
  writeFileSync(stampFile, `${lockHash()}\n`);
}
