/**
 * Kubernetes manifests for one topology (written to dist/<topology>/k8s/): a Deployment whose probes
 * hit the runner's /healthz and /readyz, whose grace period outlasts the drain deadline, and whose
 * configuration comes from a ConfigMap and its SASL credentials from a Secret; a PodDisruptionBudget;
 * and a KEDA ScaledObject on the consumer group's lag, capped at the input topic's partition count (a
 * consumer beyond it would own no partition and sit idle).
 */
import { stringify } from 'yaml';
import type { DeploySettings } from './deploy-settings.js';

export interface ManifestInput {
  readonly topologyName: string;
  readonly image: string;
  readonly group: string;
  readonly inputTopic: string;
  readonly inputPartitions: number;
  readonly drainTimeoutMs: number;
  readonly metricsPort: number;
  readonly deploy: DeploySettings;
}

/** Seconds past the drain deadline for the producer flush and the last commit before SIGKILL. */
export const GRACE_BEYOND_DRAIN_S = 15;

type Manifest = Record<string, unknown>;

/** File name (under k8s/) → its documents. */
export function buildManifests(input: ManifestInput): Record<string, Manifest[]> {
  const name = `signalpath-${input.topologyName}`;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'signalpath', 'signalpath.dev/topology': input.topologyName };
  const selector = { 'app.kubernetes.io/name': name };
  const credentials = `${name}-kafka-credentials`;

  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data: {
      KAFKA_BROKERS: 'kafka-bootstrap:9092',
      SIGNALPATH_GROUP: input.group,
      SIGNALPATH_METRICS_PORT: String(input.metricsPort),
      SIGNALPATH_DRAIN_TIMEOUT_MS: String(input.drainTimeoutMs),
      // librdkafka settings as SIGNALPATH_KAFKA_<NAME>; the credentials are in the Secret.
      SIGNALPATH_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      SIGNALPATH_KAFKA_SASL_MECHANISMS: 'SCRAM-SHA-512',
      ...input.deploy.env,
    },
  };

  const secret: Manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: credentials, labels },
    type: 'Opaque',
    // Placeholders: replace before applying (or manage the Secret elsewhere and delete this file).
    stringData: {
      SIGNALPATH_KAFKA_SASL_USERNAME: 'REPLACE_ME',
      SIGNALPATH_KAFKA_SASL_PASSWORD: 'REPLACE_ME',
      // KEDA's Kafka scaler reads the same credentials through the TriggerAuthentication below.
      KEDA_KAFKA_SASL: 'scram_sha512',
      KEDA_KAFKA_TLS: 'enable',
    },
  };

  const probe = (pathName: string, periodSeconds: number, failureThreshold: number): Manifest => ({
    httpGet: { path: pathName, port: 'metrics' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });

  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: Math.max(1, input.deploy.minReplicas),
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(input.metricsPort), 'prometheus.io/path': '/metrics' } },
        spec: {
          terminationGracePeriodSeconds: Math.ceil(input.drainTimeoutMs / 1000) + GRACE_BEYOND_DRAIN_S,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          containers: [
            {
              name: 'topology',
              image: input.image,
              ports: [{ name: 'metrics', containerPort: input.metricsPort }],
              envFrom: [{ configMapRef: { name } }, { secretRef: { name: credentials } }],
              resources: input.deploy.resources,
              // /healthz fails only when the run has failed: restart. /readyz fails while assigning
              // partitions or far behind: no restart, just not ready.
              livenessProbe: { ...probe('/healthz', 10, 3), initialDelaySeconds: 10 },
              readinessProbe: probe('/readyz', 5, 2),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };

  const disruptionBudget: Manifest = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels },
    // One pod at a time: each eviction is a drain and a rebalance of the group.
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };

  const triggerAuthentication: Manifest = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name: `${name}-kafka`, labels },
    spec: {
      secretTargetRef: [
        { parameter: 'sasl', name: credentials, key: 'KEDA_KAFKA_SASL' },
        { parameter: 'username', name: credentials, key: 'SIGNALPATH_KAFKA_SASL_USERNAME' },
        { parameter: 'password', name: credentials, key: 'SIGNALPATH_KAFKA_SASL_PASSWORD' },
        { parameter: 'tls', name: credentials, key: 'KEDA_KAFKA_TLS' },
      ],
    },
  };

  const scaledObject: Manifest = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name, labels },
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: Math.min(input.deploy.minReplicas, input.inputPartitions),
      maxReplicaCount: input.inputPartitions,
      triggers: [
        {
          type: 'kafka',
          metadata: {
            bootstrapServersFromEnv: 'KAFKA_BROKERS',
            consumerGroup: input.group,
            topic: input.inputTopic,
            lagThreshold: String(input.deploy.lagThreshold),
            offsetResetPolicy: 'earliest',
            allowIdleConsumers: 'false',
          },
          authenticationRef: { name: `${name}-kafka` },
        },
      ],
    },
  };

  return {
    'configmap.yaml': [configMap],
    'secret.yaml': [secret],
    'deployment.yaml': [deployment],
    'pdb.yaml': [disruptionBudget],
    'keda.yaml': [triggerAuthentication, scaledObject],
  };
}

/** A multi-document YAML file. */
export function renderManifests(documents: readonly Manifest[]): string {
  return documents.map((document) => stringify(document, { lineWidth: 0 })).join('---\n');
}
