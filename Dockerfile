# syntax=docker/dockerfile:1
# One image for every role: the worker by default; the api and gateway services override the command.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-ui-static.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# serialport (optional, via johnny-five) may fail to compile here without build tools: the
# simulated board does not need it, and npm drops a failed optional dependency.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# No HEALTHCHECK: the worker serves no port; the api's check lives in docker-compose.yml.
# A heap cap: with thousands of open sessions V8 otherwise lets garbage grow towards ~1 GB (npm run bench).
CMD ["node", "--max-old-space-size=512", "dist/worker/main.js"]
