#!/usr/bin/env node
// Builds Parley's optional native addons (native/*/binding.gyp) with node-gyp, offline. Run by
// npm's postinstall and by hand (`node native/build.mjs`). It never fails the install: an addon
// that does not build leaves Parley on its portable path (wasm), and this prints why.
// Plain JavaScript with no dependencies, because it runs during `npm install`.
//   native/sgemm  batched GEMM over OpenBLAS (Debian: libopenblas-dev), for training on the CPU
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = import.meta.dirname;
const say = (line) => process.stderr.write(`parley: ${line}\n`);

if (process.env.PARLEY_SKIP_NATIVE) {
  say('PARLEY_SKIP_NATIVE is set: native addons not built');
  process.exit(0);
}

/** npm sets npm_config_node_gyp in its scripts; by hand, the node-gyp bundled with npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  return candidates.find((file) => file && existsSync(file)) ?? null;
}

const HEADERS = [
  '/usr/include/cblas.h',
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/aarch64-linux-gnu/cblas.h',
  '/usr/include/openblas/cblas.h',
];

try {
  const gyp = nodeGyp();
  // Node's own headers where this node is installed (Debian's nodejs, the official tarballs): node-gyp
  // then builds offline instead of downloading them.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const nodeDir = existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))
    ? [`--nodedir=${prefix}`]
    : [];
  const addons = [{ dir: 'sgemm', needs: 'OpenBLAS (Debian: apt-get install libopenblas-dev)' }];
  for (const { dir, needs } of addons) {
    const cwd = path.join(root, dir);
    if (!gyp) {
      say(`native/${dir} not built: node-gyp not found; Parley trains without it`);
      continue;
    }
    if (dir === 'sgemm' && !HEADERS.some((file) => existsSync(file))) {
      say(`native/${dir} not built: no cblas.h; it needs ${needs}. Parley trains without it (wasm)`);
      continue;
    }
    const result = spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=error', ...nodeDir], {
      cwd,
      encoding: 'utf8',
    });
    if (result.status === 0) say(`native/${dir} built`);
    else {
      const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
      say(`native/${dir} not built (it needs ${needs}); Parley trains without it (wasm):\n${tail}`);
    }
  }
} catch (error) {
  say(`native addons not built: ${error?.message ?? error}`);
}
process.exit(0);
