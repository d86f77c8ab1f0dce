# Build stage: install the locked dependencies without the embedded Postgres binaries (the image
# talks to a real Postgres through DATABASE_URL).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm i -g pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile --no-optional && pnpm --filter @tasklane/api codegen

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
EXPOSE 8000
CMD ["node", "--import", "tsx", "services/api/src/main.ts"]
