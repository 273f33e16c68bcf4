/**
 * The build context's Dockerfile: a node:24 build stage that installs Debian's -dev packages and
 * builds @confluentinc/kafka-javascript from source against them (CKJS_LINKING=dynamic, as
 * scripts/setup.sh does here), and a slim runtime stage with only the shared libraries, running as the
 * image's non-root `node` user under tini (so SIGTERM reaches node, which drains and commits).
 */

/** Debian packages the Kafka client builds against (the same list as scripts/setup.sh). */
export const BUILD_PACKAGES = ['zlib1g-dev', 'libssl-dev', 'libsasl2-dev', 'libzstd-dev', 'liblz4-dev', 'libcurl4-openssl-dev'] as const;
/** Their runtime libraries in Debian bookworm, plus tini. */
export const RUNTIME_PACKAGES = ['libssl3', 'libsasl2-2', 'libzstd1', 'liblz4-1', 'libcurl4', 'zlib1g', 'tini', 'ca-certificates'] as const;

export interface DockerfileOptions {
  readonly topologyName: string;
  readonly metricsPort: number;
}

export function renderDockerfile({ topologyName, metricsPort }: DockerfileOptions): string {
  // A HEALTHCHECK with node itself: the slim image has no curl, and /healthz turns 503 when the run fails.
  const probe = `fetch('http://127.0.0.1:'+(process.env.SIGNALPATH_METRICS_PORT||${metricsPort})+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`;
  return `# syntax=docker/dockerfile:1
# The ${topologyName} topology, built by \`signalpath build ${topologyName}\`. Build from this folder:
#   docker build -t signalpath-${topologyName} .

# --- build: install production dependencies, building the Kafka client from source ---------------
FROM node:24-bookworm AS build
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${BUILD_PACKAGES.join(' ')} \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Link librdkafka's dependencies from Debian; node-gyp uses this Node's own headers.
ENV CKJS_LINKING=dynamic npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --no-audit --no-fund \\
 && node -e "require('@confluentinc/kafka-javascript')"
COPY . .

# --- runtime: shared libraries only, non-root -----------------------------------------------------
FROM node:24-bookworm-slim AS runtime
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES.join(' ')} \\
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \\
    NODE_OPTIONS=--max-semi-space-size=16 \\
    SIGNALPATH_METRICS_PORT=${metricsPort}
WORKDIR /app
# Owned by root, read by the unprivileged user: the process cannot change its own code.
COPY --from=build /app /app
RUN ln -s /app/bin/signalpath.js /usr/local/bin/signalpath
USER node
EXPOSE ${metricsPort}
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["node", "-e", ${JSON.stringify(probe)}]
ENTRYPOINT ["/usr/bin/tini", "--", "signalpath", "run", "${topologyName}"]
`;
}

/** What the image needs from the context: not the manifests, not a host's node_modules. */
export const DOCKERIGNORE = ['node_modules', 'k8s', 'compose.service.yaml', 'Dockerfile', '.dockerignore', '.signalpath-build', ''].join('\n');
