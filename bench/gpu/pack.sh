#!/usr/bin/env bash
# Packs bench/gpu/train.ts for a GPU machine that has no Node.js dependencies: one esbuild bundle,
# tfjs-backend-wasm's .wasm files next to it, Dawn's linux-x64 binding (the `webgpu` package, kept
# external because it is native) and, compressed, this machine's node binary. About 40 MB, in .gpu/
# (git-ignored), which bench/gpu/run.sh runs. Run from the repository root after `npm install`.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu
rm -rf "$out"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/node_modules/@tensorflow/tfjs-backend-webgpu"

# One ESM file. Module fields first, so every package shares tfjs-core's ESM build (two copies of
# tfjs-core would mean two engines). The banner gives the CommonJS parts (the wasm backend's
# Emscripten loader) the require and __dirname they expect.
npx esbuild bench/gpu/train.ts --bundle --platform=node --format=esm --target=node20 \
  --main-fields=module,main --log-level=warning \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import { createRequire as __parleyRequire } from 'node:module'; import { fileURLToPath as __parleyPath } from 'node:url'; const require = __parleyRequire(import.meta.url); const __filename = __parleyPath(import.meta.url); const __dirname = __parleyPath(new URL('.', import.meta.url));" \
  --outfile="$out/train.mjs"
cp node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/*.wasm "$out/"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
# server/ml/backend.ts checks that the backend package is installed before it touches navigator.gpu;
# its code is in the bundle, its package.json says it is there.
cp node_modules/@tensorflow/tfjs-backend-webgpu/package.json "$out/node_modules/@tensorflow/tfjs-backend-webgpu/"
xz -T0 -6 -c "$(command -v node)" >"$out/node.xz"
du -sh "$out"
