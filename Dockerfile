# One image for both services (api, projector); the command picks the app.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts/build-console.js ./scripts/
# The agent console (docs/console.md) is static files the API serves at /console.
RUN npx nest build api && (test ! -f apps/projector/src/main.ts || npx nest build projector) && node scripts/build-console.js && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data PORT=3000
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# --max-old-space-size as in scripts/node-flags.json
CMD ["node", "--enable-source-maps", "--max-old-space-size=512", "dist/apps/api/apps/api/src/main.js"]
