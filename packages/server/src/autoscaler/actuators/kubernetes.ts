import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { Logger } from 'pino';
import type { ScaleReason } from '../decide.ts';
import type { Actuator } from './actuator.ts';

/** Where a pod's ServiceAccount token and the cluster's CA are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesActuatorOptions {
  readonly log: Logger;
  readonly namespace: string;
  readonly deployment: string;
  /** The API server: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` by default. */
  readonly baseUrl?: string;
  /** Read at every request, so a rotated (projected) token is picked up. */
  readonly tokenPath?: string;
  readonly caPath?: string;
  readonly timeoutMs?: number;
  /** For the default baseUrl. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The in-cluster API server's URL, as client-go's rest.InClusterConfig builds it. */
export function inClusterBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: the kubernetes actuator runs only inside a pod');
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * AUTOSCALER_ACTUATOR=kubernetes: sets the replicas of a Deployment through its `scale` subresource,
 * with the pod's ServiceAccount (deploy/kubernetes/rbac.yaml grants `get` and `patch` on
 * `deployments/scale` of that Deployment only). scaleTo() is a merge patch of `{"spec":{"replicas":n}}`;
 * current() reads `spec.replicas` back. Kubernetes drains a removed pod itself: SIGTERM, then
 * `terminationGracePeriodSeconds`, then SIGKILL.
 */
export class KubernetesActuator implements Actuator {
  readonly kind = 'kubernetes';
  readonly #options: KubernetesActuatorOptions;
  #ca: Promise<Buffer> | undefined;

  constructor(options: KubernetesActuatorOptions) {
    this.#options = options;
  }

  get scalePath(): string {
    const { namespace, deployment } = this.#options;
    return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(deployment)}/scale`;
  }

  async current(): Promise<number> {
    return replicas(await this.#request('GET'));
  }

  async scaleTo(n: number, reason: ScaleReason): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new Error(`cannot scale to ${n} replicas`);
    const scale = await this.#request('PATCH', JSON.stringify({ spec: { replicas: n } }));
    this.#options.log.info({ deployment: this.#options.deployment, namespace: this.#options.namespace, replicas: replicas(scale), reason }, `autoscaler: deployment ${this.#options.deployment} scaled to ${n} replicas`);
  }

  async #request(method: 'GET' | 'PATCH', body?: string): Promise<unknown> {
    const o = this.#options;
    const base = new URL(o.baseUrl ?? inClusterBaseUrl(o.env));
    const token = (await readFile(o.tokenPath ?? `${SERVICE_ACCOUNT_DIR}/token`, 'utf8')).trim();
    // The CA is read once; a failed read is retried at the next request.
    this.#ca ??= readFile(o.caPath ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`);
    const ca = await this.#ca.catch((err: unknown) => {
      this.#ca = undefined;
      throw err;
    });
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json', 'User-Agent': 'skyscale-autoscaler' };
    if (body !== undefined) Object.assign(headers, { 'Content-Type': 'application/merge-patch+json', 'Content-Length': String(Buffer.byteLength(body)) });
    const where = `${method} ${this.scalePath}`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        { protocol: 'https:', hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port || 443, path: this.scalePath, method, headers, ca, timeout: o.timeoutMs ?? 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              // A Kubernetes error is a Status object: { kind: "Status", reason, message }.
              const s = parsed as { reason?: string; message?: string } | undefined;
              reject(new Error(`${where}: ${status}${s?.reason ? ` ${s.reason}` : ''}: ${s?.message ?? text.slice(0, 200)}`));
            } else if (parsed === undefined) reject(new Error(`${where}: ${status} with a body that is not JSON`));
            else resolve(parsed);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${where}: no answer within ${o.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** spec.replicas of an autoscaling/v1 Scale (absent means 0, as the API omits zero values). */
function replicas(scale: unknown): number {
  const s = scale as { kind?: string; spec?: { replicas?: unknown } } | null;
  if (s === null || typeof s !== 'object' || s.kind !== 'Scale') throw new Error('the API server answered with something other than a Scale');
  const n = s.spec?.replicas ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`the Scale's spec.replicas is ${String(n)}`);
  return n;
}
