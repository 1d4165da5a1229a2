# The receiver, the processor and the migrations: one image, the command picks which
# (node dist/receiver/main.js, dist/processor/main.js, dist/processor/migrate.js).
# NODE_IMAGE names the base: node:24-bookworm-slim's layout (node and npm on PATH, a `node`
# user), so a mirror or a locally built image with that layout can stand in for it.
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: install every dependency, compile TypeScript, then drop the dev dependencies. The
# only step that needs the network is npm ci.
FROM ${NODE_IMAGE} AS build
# PEM certificates npm trusts besides the image's own, for a network that intercepts TLS (a
# company proxy): used by npm ci only, never part of the runtime image.
ARG BUILD_CA_PEM=""
WORKDIR /app
COPY package.json package-lock.json ./
RUN if [ -n "$BUILD_CA_PEM" ]; then printf '%s\n' "$BUILD_CA_PEM" > /tmp/build-ca.pem && export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; fi \
    && npm ci --no-audit --no-fund \
    && rm -f /tmp/build-ca.pem
COPY tsconfig.json tsconfig.build.json ./
COPY schemas schemas
COPY platform platform
COPY receiver receiver
COPY processor processor
COPY sender sender
COPY scripts scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: the compiled code and the production dependencies, as the unprivileged node user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY receiver/openapi.yaml receiver/openapi.yaml
USER node
EXPOSE 8000 8001
CMD ["node", "dist/receiver/main.js"]
