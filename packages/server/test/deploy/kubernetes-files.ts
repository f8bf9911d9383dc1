/** The manifests of deploy/kubernetes as objects, and what their containers' environments come to. */
import path from 'node:path';
import { DEPLOY, readYaml, type Yaml } from './deploy-files.ts';

export const KUBERNETES = path.join(DEPLOY, 'kubernetes');
export const SECRET_EXAMPLE = 'secret.example.yaml';

export function kustomization(): Yaml {
  return readYaml(path.join(KUBERNETES, 'kustomization.yaml'))[0];
}

/** The objects `kubectl apply -k` applies, and with `withExample` the Secret template too. */
export function kubernetes(options: { withExample?: boolean } = {}): Yaml[] {
  const files: string[] = [...kustomization().resources, ...(options.withExample ? [SECRET_EXAMPLE] : [])];
  return files.flatMap((file) => readYaml(path.join(KUBERNETES, file)).map((object) => Object.assign(object, { file })));
}

export interface Container {
  /** `file Deployment/name container`, for messages. */
  readonly where: string;
  readonly deployment: Yaml;
  /** The Deployment's app.kubernetes.io/component label: the role it runs. */
  readonly component: string;
  readonly pod: Yaml;
  readonly container: Yaml;
}

export function containers(): Container[] {
  return kubernetes()
    .filter((o) => o.kind === 'Deployment')
    .flatMap((deployment) => (deployment.spec.template.spec.containers as Yaml[]).map((container) => ({
      where: `${deployment.file} Deployment/${deployment.metadata.name} ${container.name}`,
      deployment,
      component: deployment.metadata.labels['app.kubernetes.io/component'],
      pod: deployment.spec.template.spec,
      container,
    })));
}

/** What the downward API would give the fields the manifests read, for a sample pod. */
const SAMPLE_FIELDS: Record<string, string> = { 'metadata.name': 'skyscale-worker-7c9d8f6b5-x2x9q', 'metadata.namespace': 'skyscale' };

/**
 * A container's environment: its envFrom ConfigMap and Secret (`secretData` standing for the Secret),
 * then its own env. Throws on a reference to an object the manifests do not define.
 */
export function kubernetesEnv(container: Yaml, secretData: Record<string, string>): { env: Record<string, string> } {
  const objects = kubernetes();
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef.name);
      if (!map) throw new Error(`envFrom names ConfigMap ${source.configMapRef.name}, which is not applied`);
      Object.assign(env, map.data);
    } else if (source.secretRef) {
      const example = kubernetes({ withExample: true }).find((o) => o.kind === 'Secret');
      if (example?.metadata.name !== source.secretRef.name) throw new Error(`envFrom names Secret ${source.secretRef.name}, but the example is ${example?.metadata.name}`);
      Object.assign(env, secretData);
    } else throw new Error(`envFrom ${JSON.stringify(source)}: neither a ConfigMap nor a Secret`);
  }
  for (const variable of container.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.value !== undefined) env[variable.name] = String(variable.value);
    else if (field !== undefined && field in SAMPLE_FIELDS) env[variable.name] = SAMPLE_FIELDS[field];
    else throw new Error(`env ${variable.name}: only plain values and ${Object.keys(SAMPLE_FIELDS).join(', ')} are expected`);
  }
  return { env };
}
