# Parley, CPU image. Build: docker build -t parley .   Run: docker run -p 3000:3000 -v parley-data:/data parley
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PARLEY_DATA_DIR=/data \
    LOG_FORMAT=json

WORKDIR /app
COPY package.json package-lock.json ./
COPY server/cli/ensure-deps.mjs server/cli/ensure-deps.mjs
# tfjs-node-gpu (optional) needs CUDA and Google's storage; without them npm skips it.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY server server
COPY client client
COPY seed seed
COPY tsconfig.json ./

RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

CMD ["node", "server/cli/parley.mjs", "serve"]
