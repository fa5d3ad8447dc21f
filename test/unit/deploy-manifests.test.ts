// Offline checks of the deployment files (no cluster, no Docker engine here): every Kubernetes object validates
// against the API schemas, the pieces refer to each other consistently (ports, selectors, metric names), and the
// Dockerfile lints clean and runs what the brief says.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CONFIG_FIELDS, CONFIG_FILE_ENV } from '../../src/config/schema.ts';
import { ERROR_REGISTRY } from '../../src/errors/registry.ts';
import { ServiceMetrics } from '../../src/observability/metrics.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'deploy');

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };
/** Manifests are free-form YAML: the assertions below are the type checks. */
type Any = any;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
}

function loadObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
    return doc.toJS() as K8sObject;
  });
}

/** The model class for an object's apiVersion and kind, from kubernetes-models or the Prometheus Operator models. */
async function modelClass(apiVersion: string, kind: string): Promise<new (o: unknown) => { validate(): void }> {
  const module: Record<string, unknown> = apiVersion.startsWith('monitoring.coreos.com/')
    ? await import(`@kubernetes-models/prometheus-operator/${apiVersion}`)
    : await import(`kubernetes-models/${apiVersion}`);
  const cls = module[kind];
  assert.ok(typeof cls === 'function', `no model for ${apiVersion} ${kind}`);
  return cls as new (o: unknown) => { validate(): void };
}

const manifestFiles = [...yamlFiles(DEPLOY).filter((f) => !f.endsWith('kustomization.yaml')), ...yamlFiles(join(DEPLOY, 'optional'))];
const objects = manifestFiles.flatMap((file) => loadObjects(file).map((object) => ({ file, object })));
const find = (kind: string, name?: string): Any => {
  const hit = objects.find(({ object }) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.ok(hit, `no ${kind}${name ? ` ${name}` : ''} in deploy/`);
  return hit.object;
};

describe('Kubernetes manifests', () => {
  it('every object validates against its API schema', async () => {
    assert.ok(objects.length >= 7, `found only ${objects.length} objects`);
    for (const { file, object } of objects) {
      const Model = await modelClass(object.apiVersion, object.kind);
      assert.doesNotThrow(() => new Model(object).validate(), `${file}: ${object.kind} ${object.metadata?.name}`);
    }
  });

  it('the schema validation catches a probe port written as a string', async () => {
    const deployment = structuredClone(find('Deployment', 'onesam'));
    deployment.spec.template.spec.containers[0].readinessProbe.grpc.port = '50051';
    const Model = await modelClass('apps/v1', 'Deployment');
    assert.throws(() => new Model(deployment).validate());
  });

  it('kustomization lists every core manifest, and only existing ones', () => {
    const kustomization = parseYaml(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const core = yamlFiles(DEPLOY).filter((f) => !f.endsWith('kustomization.yaml')).map((f) => f.slice(DEPLOY.length + 1)).sort();
    assert.deepEqual([...kustomization.resources].sort(), core);
  });

  it('gRPC probes: numeric port equal to the grpc container port; liveness on its own service name', () => {
    const container = find('Deployment', 'onesam').spec.template.spec.containers[0];
    const grpcPort = container.ports.find((p: Any) => p.name === 'grpc');
    assert.equal(grpcPort?.containerPort, 50051);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const grpc = container[probe]?.grpc;
      assert.ok(grpc, `${probe} is not a grpc probe`);
      assert.equal(typeof grpc.port, 'number', `${probe}.grpc.port must be a number`);
      assert.equal(grpc.port, grpcPort.containerPort, `${probe} probes another port`);
    }
    // Startup and readiness ask the overall health ("" service): SERVING only with models loaded and the pool up.
    assert.equal(container.startupProbe.grpc.service ?? '', '');
    assert.equal(container.readinessProbe.grpc.service ?? '', '');
    assert.equal(container.livenessProbe.grpc.service, 'liveness');
    // Startup must allow model loading: at least two minutes.
    assert.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 120);
  });

  it('container ports, environment and resources agree', () => {
    const pod = find('Deployment', 'onesam').spec.template.spec;
    const container = pod.containers[0];
    const config = find('ConfigMap', 'onesam-config');
    assert.ok(container.envFrom.some((e: Any) => e.configMapRef?.name === 'onesam-config'));
    const port = (name: string) => container.ports.find((p: Any) => p.name === name).containerPort;
    assert.equal(Number(config.data.ONESAM_PORT), port('grpc'));
    assert.equal(Number(config.data.ONESAM_METRICS_PORT), port('metrics'));
    // Every variable is one the server's config schema reads (unknown ones only earn a start-up warning).
    const known = new Set([...CONFIG_FIELDS.map((f) => f.env), CONFIG_FILE_ENV]);
    for (const key of Object.keys(config.data)) assert.ok(known.has(key), `ConfigMap sets ${key}, which src/config does not read`);
    const workers = Number(config.data.ONESAM_WORKERS);
    const threads = Number(config.data.ONESAM_INTRA_OP_THREADS);
    assert.ok(workers * threads <= Number(container.resources.requests.cpu), 'workers x intra-op threads exceed the CPU request');
    assert.ok(container.resources.limits.memory, 'memory limit missing');
    assert.ok(pod.terminationGracePeriodSeconds >= 300, 'grace period too short for a long volume');
    // The server's own drain must end before the kubelet's SIGKILL: preStop sleep + drain < grace period.
    const preStopSeconds = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
    const drainSeconds = Number(config.data.ONESAM_SHUTDOWN_GRACE_MS) / 1000;
    assert.ok(drainSeconds >= 300, 'ONESAM_SHUTDOWN_GRACE_MS too short for a long volume');
    assert.ok(preStopSeconds + drainSeconds + 10 <= pod.terminationGracePeriodSeconds, 'drain does not fit the grace period');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    // Service links would put ONESAM_PORT=tcp://<ip>:50051 and friends into the server's configuration namespace.
    assert.equal(pod.enableServiceLinks, false);
  });

  it('services and the PDB select the pods; the headless service serves round_robin clients', () => {
    const deployment = find('Deployment', 'onesam');
    const podLabels = deployment.spec.template.metadata.labels;
    const containerPorts = deployment.spec.template.spec.containers[0].ports.map((p: Any) => p.name);
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    assert.ok(selects(deployment.spec.selector.matchLabels));
    const headless = find('Service', 'onesam-headless');
    assert.equal(headless.spec.clusterIP, 'None');
    for (const service of [headless, find('Service', 'onesam')]) {
      assert.ok(selects(service.spec.selector), `${service.metadata.name} selects no pod`);
      for (const p of service.spec.ports) assert.ok(containerPorts.includes(p.targetPort), `${service.metadata.name} targets unknown port ${p.targetPort}`);
    }
    const pdb = find('PodDisruptionBudget');
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.ok(selects(pdb.spec.selector.matchLabels));
  });

  it('the HPA scales the deployment on the metric prometheus-adapter serves', () => {
    const hpa = find('HorizontalPodAutoscaler', 'onesam');
    assert.equal(hpa.spec.scaleTargetRef.name, find('Deployment').metadata.name);
    const metric = hpa.spec.metrics[0];
    assert.equal(metric.type, 'Pods');
    const adapter = parseYaml(readFileSync(join(DEPLOY, 'helm-values', 'prometheus-adapter.yaml'), 'utf8')) as Any;
    const served = adapter.rules.custom.map((r: Any) => r.name.as);
    assert.ok(served.includes(metric.pods.metric.name), `adapter does not serve ${metric.pods.metric.name}`);
  });

  it('the ServiceMonitor scrapes a port the metrics Service has', () => {
    const monitor = find('ServiceMonitor', 'onesam');
    const service = objects.map((o) => o.object as Any).find((o) => o.kind === 'Service'
      && Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v)
      && o.spec.ports.some((p: Any) => p.name === monitor.spec.endpoints[0].port));
    assert.ok(service, 'no Service matches the ServiceMonitor selector and port');
  });

  it('the alert rules query metrics the server exports, with label values it uses', async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const exported = new Map<string, string>();
    for (const m of await metrics.registry.getMetricsAsJSON()) exported.set(m.name, String(m.type));
    const rules = find('PrometheusRule', 'onesam').spec.groups.flatMap((g: Any) => g.rules) as { alert: string; expr: string }[];
    assert.ok(rules.length >= 4);
    for (const { alert, expr } of rules) {
      const names = [...expr.matchAll(/\b(onesam_[a-z_]+)/g)].map((m) => m[1]!);
      assert.ok(names.length > 0, `${alert} queries no onesam metric`);
      for (const name of names) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const type = exported.get(name) ?? (base !== name && exported.get(base) === 'histogram' ? 'histogram' : undefined);
        assert.ok(type, `${alert}: the server exports no ${name}`);
      }
      for (const m of expr.matchAll(/code=~?"([^"]+)"/g)) {
        for (const code of m[1]!.split('|')) assert.ok(code in ERROR_REGISTRY, `${alert}: ${code} is not an error code`);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));

  it('lints without errors or warnings', () => {
    const problems = lintDockerfile(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it('is a multi-stage node:20-bookworm-slim build with production dependencies only', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    assert.ok(froms.length >= 2, 'not multi-stage');
    for (const from of froms) assert.match(from, /^FROM node:20-bookworm-slim\b/);
    const npmCi = lines.findIndex((l) => /RUN npm ci\b.*--omit=dev/.test(l));
    assert.ok(npmCi > 0, 'no `npm ci --omit=dev`');
    const copyNpmrc = lines.findIndex((l) => l.startsWith('COPY ') && l.includes('.npmrc'));
    assert.ok(copyNpmrc >= 0 && copyNpmrc < npmCi, '.npmrc must be copied before npm ci');
    assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^onnxruntime-node-install=skip$/m);
  });

  it('runs the server as a non-root user, exposing the gRPC and metrics ports', () => {
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    assert.ok(user && !/^USER (root|0)\b/.test(user), 'runs as root');
    const exposed = lines.filter((l) => l.startsWith('EXPOSE ')).flatMap((l) => l.slice(7).trim().split(/\s+/)).map(Number);
    assert.deepEqual(exposed.sort(), [50051, 9464].sort());
    assert.equal(lines.filter((l) => l.startsWith('CMD ')).at(-1), 'CMD ["node", "bin/onesam.mjs", "serve"]');
    assert.ok(lines.some((l) => /^COPY models\b/.test(l)), 'models/ not embedded');
    const known = new Set(CONFIG_FIELDS.map((f) => f.env));
    const envs = [...dockerfile.matchAll(/\b(ONESAM_[A-Z_]+)=/g)].map((m) => m[1]!);
    assert.ok(envs.length > 0);
    for (const env of envs) assert.ok(known.has(env), `Dockerfile sets ${env}, which src/config does not read`);
  });

  const sources = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));

  it('copies nothing that .dockerignore excludes', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    assert.ok(sources.length >= 5);
    for (const source of sources) assert.ok(!ignored.includes(source), `${source} is copied but excluded by .dockerignore`);
  });

  // The embedded model repository is written by the model compiler (issue 2); until it is in the tree this check
  // runs as a todo, and it becomes a normal test by itself once models/ exists.
  const modelsPending = !existsSync(join(ROOT, 'models'));
  it('copies only paths that exist', { todo: modelsPending ? 'models/ is not in the tree yet' : false }, () => {
    for (const source of sources) assert.ok(existsSync(join(ROOT, source)), `${source} is copied but does not exist`);
  });
});
