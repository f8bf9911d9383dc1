import { Type } from 'typebox';
import { RUNTIMES } from '../../core/types.ts';
import { INSTANCE_STATES } from '../../core/instance-state.ts';
import { Nullable, StringEnum } from './common.ts';

export const InstanceRuntime = StringEnum(RUNTIMES, { description: 'The runtime the instance runs' });
export const InstanceState = StringEnum(INSTANCE_STATES, { description: 'stem: a runtime not yet loaded with a function; paused and snapshotting come with snapshots (core/instance-state.ts)' });
export const InstanceKind = StringEnum(['invoke', 'stream', 'stem'], { description: 'invoke: shared by invocations; stream: one WebSocket session at a time; stem: not specialised yet' });

/** GET /vms: an instance (seed 000 calls them VMs). Stem cells have no function. */
export const Instance = Type.Object({
  id: Type.String(),
  workerId: Type.String({ description: 'WORKER_ID of the worker it runs on' }),
  functionId: Nullable(Type.String()),
  functionName: Nullable(Type.String()),
  version: Nullable(Type.Integer()),
  runtime: InstanceRuntime,
  state: InstanceState,
  kind: InstanceKind,
  pid: Nullable(Type.Integer()),
  memoryBytes: Nullable(Type.Number()),
  uptimeMs: Type.Number(),
  invocations: Type.Integer(),
  inFlight: Type.Integer(),
  idleMs: Nullable(Type.Number()),
});

export const InstanceList = Type.Object({ items: Type.Array(Instance) });

export const CgroupCapabilities = Type.Object({
  version: Nullable(Type.Unsafe<1 | 2>({ type: 'integer', enum: [1, 2] })),
  parents: Type.Record(Type.String(), Type.String(), { description: 'Directory under which instance groups are created, per controller (v1) or unified (v2)' }),
  memory: Type.Boolean(),
  pids: Type.Boolean(),
  cpu: Type.Boolean(),
  cpuAccounting: Type.Boolean(),
  io: Type.Boolean({ description: 'Block I/O accounting: bytes read and written per instance' }),
  freezer: Type.Boolean(),
});

export const RuntimeBinary = Type.Object({ path: Type.String(), version: Type.String() });

/** What the host's sandbox supports (docs/sandbox.md). */
export const SandboxCapabilities = Type.Object({
  driver: Type.String(),
  isolation: StringEnum(['bubblewrap', 'none'], { description: 'bubblewrap: namespaces and a read-only root; none: the operator opted out (SANDBOX=none)' }),
  usable: Type.Boolean({ description: 'False when instances cannot start: no bubblewrap and no opt-out, or the work directory is unreachable' }),
  bwrap: Nullable(Type.Object({ path: Type.String(), version: Type.String(), userNamespaces: Type.Boolean() })),
  uidPerInstance: Type.Boolean({ description: 'Sandboxed processes run as a distinct host uid per instance' }),
  seccomp: Type.Boolean({ description: 'A seccomp filter denies kernel interfaces functions have no use for' }),
  cgroup: CgroupCapabilities,
  memoryLimit: StringEnum(['cgroup', 'rss-watchdog']),
  pidsLimit: StringEnum(['cgroup', 'rlimit-nproc', 'pid-namespace-only']),
  cpuLimit: StringEnum(['cgroup', 'none']),
  runtimes: Type.Partial(Type.Record(Type.Union(RUNTIMES.map((r) => Type.Literal(r))), RuntimeBinary), { description: 'The interpreter of each runtime this host can run; a missing one is unavailable' }),
  warnings: Type.Array(Type.String()),
});

/** GET /system: the sandbox's capabilities and the platform's Node.js. */
export const SystemInfo = Type.Object({
  sandbox: SandboxCapabilities,
  node: Type.String({ description: 'process.version of the platform, e.g. v24.12.0' }),
  platform: Type.String({ description: '<os>-<arch>, e.g. linux-x64' }),
  topology: Type.Object({
    mode: StringEnum(['embedded', 'distributed'] as const, { description: 'embedded: every role in one process; distributed: roles in processes that meet on NATS and PostgreSQL' }),
    store: StringEnum(['sqlite', 'postgres'] as const),
    bus: StringEnum(['memory', 'nats'] as const),
    workers: Type.Array(Type.Object({ id: Type.String(), roles: Type.Array(Type.String()), state: StringEnum(['ready', 'draining', 'lost'] as const) }), { description: 'Every worker the registry knows (the embedded mode: this process)' }),
  }, { description: 'How the platform answering is laid out (docs/distributed.md)' }),
});
