# One image for both roles: the API (default CMD) and the worker (compose overrides the command),
# plus the tasklane CLI for migrations and API keys. Processes run the compiled JavaScript with
# plain node: no tsx, no TypeScript, no devDependencies. Postgres is external (DATABASE_URL).

# Build stage: the locked dependencies, every package and both services compiled to dist, the
# dashboard built, then each program deployed with its production dependencies only.
FROM node:26-trixie-slim AS build
WORKDIR /src
ENV CI=true
RUN npm i -g pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm exec turbo run build --filter=@tasklane/api --filter=@tasklane/worker-service --filter=@tasklane/cli \
  && pnpm --filter @tasklane/web build \
  && pnpm --filter @tasklane/api deploy --prod /app/api \
  && pnpm --filter @tasklane/worker-service deploy --prod /app/worker \
  && pnpm --filter @tasklane/cli deploy --prod /app/cli \
  && mkdir -p /app/web && cp -r services/web/dist /app/web/dist \
  && cd /app && rm -rf */src */test */scripts */tsconfig*.json

# Runtime stage: the slim image of the current Node LTS, the app as the unprivileged `node` user.
FROM node:26-trixie-slim
# Inside the workspace, a package's exports name its TypeScript sources by default; the
# @tasklane/dist condition picks the compiled files that the deployed packages ship.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 NODE_OPTIONS=--conditions=@tasklane/dist
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8000
# SIGTERM: the API closes sockets with 1001 and exits; a worker finishes or releases its tasks.
STOPSIGNAL SIGTERM
# api/dist/dashboard-route.js serves ../../web/dist, which is /app/web/dist here.
CMD ["node", "api/dist/main.js"]
