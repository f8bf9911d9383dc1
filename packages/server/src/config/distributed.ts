import os from 'node:os';
import { ConfigError, duration, integer, oneOf, text, type Env } from './parse.ts';
import { DEFAULT_AUTOSCALER_SETTINGS, DEFAULT_WORKER_SETTINGS, ROLES, type ActuatorSettings, type AutoscalerSettings, type BusConfig, type ClusterSettings, type Role, type WorkerSettings } from './options.ts';

/** What `skyscale serve` was given on its command line, over the environment. */
export interface ServeFlags {
  /** Each `--role` value as given: `control,gateway`, `worker`, … */
  readonly roles?: readonly string[];
}

/**
 * The roles as given, comma-separated and/or repeated, in ROLES' order without repeats. `source` names
 * where they came from (`--role` or SKYSCALE_ROLES) in the error.
 */
export function parseRoles(values: readonly string[], source: string): readonly Role[] {
  const wanted = new Set<Role>();
  for (const value of values) {
    for (const item of value.split(',')) {
      const role = item.trim().toLowerCase();
      if (!(ROLES as readonly string[]).includes(role)) throw new ConfigError(source, `must name roles among ${ROLES.join(', ')} (comma-separated or repeated), got "${value}"`);
      wanted.add(role as Role);
    }
  }
  return Object.freeze(ROLES.filter((role) => wanted.has(role)));
}

/** `--role` wins over SKYSCALE_ROLES; neither (or an empty SKYSCALE_ROLES) is the embedded mode: no roles. */
export function roles(env: Env, flags: ServeFlags): readonly Role[] {
  const fromEnv = env.SKYSCALE_ROLES;
  if (flags.roles !== undefined && flags.roles.length > 0) return parseRoles(flags.roles, '--role');
  if (fromEnv === undefined || fromEnv.trim() === '') return Object.freeze([]);
  return parseRoles([fromEnv], 'SKYSCALE_ROLES');
}

/** WORKER_ID becomes a NATS subject token (`….<id>.…`) and a label: letters, digits, `_` and `-` only. */
const WORKER_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** This host's name and this process's id, with what a subject token cannot hold (a FQDN's dots) made `-`. */
export function defaultWorkerId(): string {
  return `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(-128);
}

export function workerSettings(env: Env): WorkerSettings {
  const id = text(env, 'WORKER_ID', defaultWorkerId());
  if (!WORKER_ID.test(id)) throw new ConfigError('WORKER_ID', `must be 1 to 128 letters, digits, "_" or "-", got "${id}"`);
  return Object.freeze({
    id,
    maxConcurrentExecutions: integer(env, 'MAX_CONCURRENT_EXECUTIONS', DEFAULT_WORKER_SETTINGS.maxConcurrentExecutions, 1, 10_000),
    heartbeatIntervalMs: integer(env, 'HEARTBEAT_INTERVAL_MS', DEFAULT_WORKER_SETTINGS.heartbeatIntervalMs, 100, 60_000),
  });
}

/** A Kubernetes namespace is a DNS-1123 label, a Deployment's name a DNS-1123 subdomain. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function actuator(env: Env): ActuatorSettings {
  // Every variable is read whichever actuator is chosen, so a typo in one is reported even while unused.
  const kind = oneOf(env, 'AUTOSCALER_ACTUATOR', 'none', ['none', 'local', 'kubernetes', 'command'] as const);
  const command = text(env, 'AUTOSCALER_COMMAND', '');
  const namespace = text(env, 'K8S_NAMESPACE', '');
  const deployment = text(env, 'K8S_DEPLOYMENT', 'skyscale-worker');
  if (namespace !== '' && !DNS_LABEL.test(namespace)) throw new ConfigError('K8S_NAMESPACE', `must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63), got "${namespace}"`);
  if (!DNS_SUBDOMAIN.test(deployment)) throw new ConfigError('K8S_DEPLOYMENT', `must be a Kubernetes Deployment name (lower-case letters, digits, "-" and ".", at most 253), got "${deployment}"`);
  switch (kind) {
    case 'none':
    case 'local':
      return Object.freeze({ kind });
    case 'command':
      if (command === '') throw new ConfigError('AUTOSCALER_COMMAND', 'must be set when AUTOSCALER_ACTUATOR=command');
      return Object.freeze({ kind, command });
    case 'kubernetes':
      if (namespace === '') throw new ConfigError('K8S_NAMESPACE', 'must be set when AUTOSCALER_ACTUATOR=kubernetes (deploy/kubernetes sets it to the pod\'s own namespace)');
      return Object.freeze({ kind, namespace, deployment });
  }
}

export function autoscalerSettings(env: Env): AutoscalerSettings {
  const d = DEFAULT_AUTOSCALER_SETTINGS;
  const minWorkers = integer(env, 'MIN_WORKERS', d.minWorkers, 1, 1000);
  const maxWorkers = integer(env, 'MAX_WORKERS', d.maxWorkers, 1, 1000);
  if (maxWorkers < minWorkers) throw new ConfigError('MAX_WORKERS', `must be at least MIN_WORKERS (${minWorkers}), got ${maxWorkers}`);
  const scaleUpThreshold = integer(env, 'SCALE_UP_THRESHOLD', d.scaleUpThreshold, 1, 1_000_000);
  const scaleDownThreshold = integer(env, 'SCALE_DOWN_THRESHOLD', d.scaleDownThreshold, 0, 1_000_000);
  if (scaleDownThreshold >= scaleUpThreshold) throw new ConfigError('SCALE_DOWN_THRESHOLD', `must be below SCALE_UP_THRESHOLD (${scaleUpThreshold}), or the worker count flaps; got ${scaleDownThreshold}`);
  return Object.freeze({
    minWorkers,
    maxWorkers,
    scaleUpThreshold,
    scaleDownThreshold,
    checkIntervalMs: duration(env, 'CHECK_INTERVAL', d.checkIntervalMs, 100, 3_600_000),
    cooldownMs: duration(env, 'COOLDOWN_PERIOD', d.cooldownMs, 0, 86_400_000),
    actuator: actuator(env),
  });
}

/** How async executions are held and given back in distributed mode (docs/distributed.md). */
export function clusterSettings(env: Env): ClusterSettings {
  return Object.freeze({
    leaseMs: duration(env, 'LEASE_TIMEOUT', 30_000, 1_000, 3_600_000),
    reapEveryMs: duration(env, 'REAPER_INTERVAL', 5_000, 100, 600_000),
  });
}

/**
 * NATS_URL: one or more NATS servers, comma-separated (`nats://host:port` or `host:port`); the client
 * tries them in turn. Unset is the in-process bus of the embedded mode.
 */
export function busConfig(env: Env): BusConfig {
  const raw = text(env, 'NATS_URL', '');
  if (raw === '') return Object.freeze({ kind: 'memory' as const });
  const urls = raw.split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const u of urls) {
    let url: URL | undefined;
    try {
      url = new URL(u.includes('://') ? u : `nats://${u}`);
    } catch {
      // reported below
    }
    if (url === undefined || !['nats:', 'tls:'].includes(url.protocol) || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/')) {
      throw new ConfigError('NATS_URL', `must be nats://host:port, comma-separated for several servers, got "${u}"`);
    }
  }
  if (urls.length === 0) throw new ConfigError('NATS_URL', `must name at least one server, got "${raw}"`);
  return Object.freeze({ kind: 'nats' as const, urls: Object.freeze(urls) });
}
