# seedtest-pipelines: the `seedtest` CLI and scheduler daemon. Build from the repository root:
#   docker build -t seedtest-pipelines .
# Runs `seedtest scheduler` by default (deploy/base/scheduler.yaml); any other command works too:
#   docker run --rm -e DATABASE_URL=… seedtest-pipelines run compute-daily-kpis --dry-run
# The R services are separate images (r-services/Dockerfile); point R_*_URL at them.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
# the bundle: one file, no TypeScript at run time; dist/node_modules: the packages it leaves external (PGlite and its
# WASM, playwright-core) with what they need, copied from the lock-pinned install above
RUN node scripts/build.mjs --runtime-modules

FROM node:20-bookworm-slim
ENV TZ=UTC NODE_ENV=production LANG=C.UTF-8
# Chromium prints the PDF reports (REPORT_FORMAT=html,pdf); NanumGothic (TrueType) sets the Korean pages, ≈10× faster
# into a PDF than the CFF Noto CJK, which stays as the fallback.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-nanum fonts-noto-cjk ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# the bundle inlines every other package (Effect, pg, vega, …): no npm install in this image
COPY --from=build /app/dist dist
COPY bin bin
COPY config/schedule.json config/schedule.json
ENV REPORT_CHROMIUM_PATH=/usr/bin/chromium SEEDTEST_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/seedtest.mjs"]
CMD ["scheduler"]
