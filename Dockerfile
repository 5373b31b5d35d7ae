# syntax=docker/dockerfile:1
# Parley's container images (docs/docker.md tells how to build and run them).
#
#   docker build -t parley .                   CPU image: the default, the last stage (also --target cpu).
#                                              Builds from the npm registry and Debian alone. With
#                                              --gpus all it also runs the WebGPU backend on an NVIDIA GPU
#                                              through Vulkan.
#   docker build --target gpu -t parley:gpu .  tfjs-node-gpu on CUDA 11.2.2 and cuDNN 8.1.1; its install
#                                              downloads libtensorflow 2.9.1 from Google's storage.
#
# Both run `parley serve` by default and any other command given after the image name
# (`docker run parley worker`, `docker run parley user add ...`).
# The versions pinned here are tabled in docs/docker.md; tests/unit/docker/dockerfile.test.ts checks both.

# ---- deps: production node_modules, shared by both images --------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/cli/ensure-deps.mjs server/cli/ensure-deps.mjs
# Install scripts: only those package.json's allowScripts allows run (esbuild's). npm 10, which Node 20
# ships, does not read allowScripts, so nothing runs during `npm ci` and the allowed ones run afterwards.
# tfjs-node-gpu (optional) arrives as JavaScript without its native part; the gpu stages build it.
# The stamp tells ensure-deps (npm start, npm test) that node_modules matches the lock file.
# ${allowed} is unquoted on purpose: one word per package.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && allowed="$(node -p "Object.entries(require('./package.json').allowScripts ?? {}).filter(([, v]) => v === true).map(([k]) => k).join(' ')")" \
  && if [ -n "${allowed}" ]; then npm rebuild ${allowed}; fi \
  && node server/cli/ensure-deps.mjs --stamp \
  && npm cache clean --force
# Prebuilt binaries for other platforms (Dawn's and onnxruntime's for macOS, Windows, the other Linux
# architecture): about 420 MB of the 1.2 GB.
RUN arch="$(node -p process.arch)" \
  && find node_modules/webgpu/dist -mindepth 1 -maxdepth 1 ! -name "linux-${arch}" -exec rm -rf {} + \
  && for dir in node_modules/onnxruntime-node/bin/napi-v*; do \
       find "${dir}" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + ; \
       find "${dir}/linux" -mindepth 1 -maxdepth 1 ! -name "${arch}" -exec rm -rf {} + ; \
     done

# ---- deps-cpu: without tfjs-node-gpu, which cannot load without its native part and CUDA --------------
FROM deps AS deps-cpu
RUN rm -rf node_modules/@tensorflow/tfjs-node-gpu

# ---- native: Parley's OpenBLAS matMul for training on the CPU (native/sgemm), from Debian alone ---------
FROM node:20-bookworm-slim AS native
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas-dev g++ make python3 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY native native
# build.mjs never fails an npm install (training falls back to wasm); an image without the addon fails.
RUN node native/build.mjs \
  && test -f native/sgemm/build/Release/parley_sgemm.node

# ---- gpu-deps: tfjs-node-gpu's native part, built on the gpu image's own base (needs internet) ---------
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS gpu-deps
# python3, make and g++ only for node-pre-gyp's fallback: compiling the binding when its prebuilt
# download fails. Compiled here, it links against this base's libraries, not Debian's.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
COPY --from=deps /usr/local/include/node /usr/local/include/node
COPY --from=deps /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
COPY --from=deps /app /app
# Downloads libtensorflow-gpu-linux-x86_64-2.9.1 and the prebuilt binding (napi), then loads it once:
# without a GPU at build time TensorFlow logs that it found no CUDA device and carries on.
RUN npm rebuild @tensorflow/tfjs-node-gpu \
  && node -e "require('@tensorflow/tfjs-node-gpu')" \
  && npm cache clean --force

# ---- gpu: tfjs-node-gpu on CUDA 11.2.2 + cuDNN 8.1.1 (what libtensorflow 2.9.1 was built against) ------
# Ubuntu 20.04 (glibc 2.31): Dawn's dawn.node needs glibc 2.34, so this image has no WebGPU fallback;
# where tfjs-node-gpu cannot start, TFJS_BACKEND=auto goes on to wasm. The CPU image runs WebGPU.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS gpu
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PARLEY_DATA_DIR=/data \
    LOG_FORMAT=json
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node \
  && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
  && mkdir -p /data \
  && chown node:node /data
WORKDIR /app
COPY --from=gpu-deps /app/node_modules node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY server server
COPY client client
COPY seed seed
RUN ln -s /app/server/cli/parley.mjs /usr/local/bin/parley
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/server/cli/parley.mjs"]
CMD ["serve"]

# ---- cpu: the default image -----------------------------------------------------------------------------
# wasm on the CPU; WebGPU on an NVIDIA GPU through Vulkan when run with --gpus all: libvulkan1 is the
# Vulkan loader, libx11-6 and libxext6 are what the driver's Vulkan library (libGLX_nvidia.so.0) links
# against; the NVIDIA container toolkit mounts the driver and its ICD file given the graphics capability.
# libopenblas0 is what native/sgemm, the CPU training matMul, loads.
FROM node:20-bookworm-slim AS cpu
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libvulkan1 libx11-6 libxext6 libopenblas0 \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data \
  && chown node:node /data
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PARLEY_DATA_DIR=/data \
    LOG_FORMAT=json \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
WORKDIR /app
COPY --from=deps-cpu /app/node_modules node_modules
COPY --from=native /app/native/sgemm/build/Release/parley_sgemm.node native/sgemm/build/Release/parley_sgemm.node
COPY package.json package-lock.json tsconfig.json ./
COPY server server
COPY client client
COPY seed seed
RUN ln -s /app/server/cli/parley.mjs /usr/local/bin/parley
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/server/cli/parley.mjs"]
CMD ["serve"]
