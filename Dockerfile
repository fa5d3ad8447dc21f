# OneSAM Serve: the gRPC segmentation service with the embedded demo models.
#   docker build -t onesam-serve:0.1.0 .
#   docker run -p 50051:50051 -p 9464:9464 onesam-serve:0.1.0
# TypeScript runs through tsx at run time (a production dependency), so there is no compile stage: the deps stage
# installs production node_modules, the runtime stage copies them next to the sources.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
# .npmrc first: it sets onnxruntime-node-install=skip, so onnxruntime-node's install script does not try to
# download GPU providers (the CPU binaries ship inside the package).
COPY .npmrc package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    ONESAM_PORT=50051 \
    ONESAM_METRICS_PORT=9464 \
    ONESAM_MODELS_DIR=/app/models \
    ONESAM_CACHE_DIR=/tmp/onesam-cache
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY proto ./proto
# The embedded demo model repository (synthetic demo weights, not for clinical use).
COPY models ./models
# Files stay root-owned and read-only to the server, which runs as the image's unprivileged `node` user (uid 1000);
# compiled graphs are cached under /tmp (ONESAM_CACHE_DIR) rather than in models/.
USER node
EXPOSE 50051 9464
# exec form: node is PID 1 and receives SIGTERM directly, which starts the graceful drain.
CMD ["node", "bin/onesam.mjs", "serve"]
