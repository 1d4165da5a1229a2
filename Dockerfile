# The receiver and the processor (one image; the command picks which).
# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas schemas
COPY platform platform
COPY receiver receiver
COPY processor processor
COPY sender sender
COPY scripts scripts
RUN npm run build

# Run: production dependencies only, as the unprivileged node user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY bin bin
COPY receiver/openapi.yaml receiver/openapi.yaml
USER node
EXPOSE 8000 8001
CMD ["node", "dist/receiver/main.js"]
