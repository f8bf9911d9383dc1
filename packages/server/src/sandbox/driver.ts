/**
 * The execution sandbox boundary. A driver starts isolated runtime instances; an instance loads one
 * function's code once and then serves many invocations. Every implementation passes the shared
 * conformance suite in test/sandbox/conformance.case.ts.
 */
import type { RequestListener } from 'node:http';
import type { StreamMessage } from '../core/stream.ts';
import type { InstanceState } from '../core/instance-state.ts';

export type { StreamMessage };

export type SandboxRuntime = 'node' | 'python' | 'php' | 'wasm' | 'command';

/**
 * The runtime whose stem cells a runtime is specialised from: runtimes that share an interpreter and
 * a sandbox layout share stem cells. WASM modules run in the Node bootstrap (node:wasi), and command
 * functions are spawned by the Python bootstrap (it starts ~20 ms faster than Node's).
 */
export const STEM_RUNTIME: Readonly<Record<SandboxRuntime, SandboxRuntime>> = { node: 'node', wasm: 'node', python: 'python', command: 'python', php: 'php' };

export interface ResourceLimits {
  /** Hard memory cap for everything in the instance; going over it is reported as `oom`. */
  memoryMb: number;
  /** Max processes + threads (a Node process alone needs ~10). Default 64. */
  pids?: number;
  /** CPU bandwidth, 100 = one full core. Default: unlimited (the platform always sets one: docs/sandbox.md#cpu). */
  cpuQuotaPercent?: number;
  /** Size of the private writable /tmp. Default 64. */
  tmpSizeMb?: number;
  /** Max output of one execution (logs produced + result). Above it: `output_truncated`. Default 6 MiB. */
  outputBytes?: number;
  /** Max log bytes kept per execution; the rest is dropped behind a marker. Default 256 KiB. */
  logBytes?: number;
}

export interface InstanceSpec {
  /** Unique per driver; used in cgroup and directory names, so [A-Za-z0-9_-] only. */
  id: string;
  runtime: SandboxRuntime;
  limits: ResourceLimits;
  /** Outbound network. Default false: the instance has only its own loopback. */
  network?: boolean;
}

/** Turns a started (generic, "stem cell") instance into one serving a specific function. */
export interface LoadRequest {
  /**
   * What the instance becomes; defaults to the runtime it was started as. Must share its stem
   * runtime (STEM_RUNTIME), e.g. a `node` stem cell can be loaded as `wasm`.
   */
  runtime?: SandboxRuntime;
  /** Host directory with the function's files; they are staged (hardlinked or copied) to /code. */
  codeDir: string;
  /**
   * `<module path>.<export>`, e.g. `index.handler` or `src/main.handler` (export may be `default`);
   * for `wasm` and `command` the path of the entry file inside the code, e.g. `main.wasm`, `bin/run.sh`.
   */
  handler: string;
  /** The function's own environment: besides PATH/HOME/LANG/TMPDIR the only variables it sees. */
  env: Record<string, string>;
  /** The function's id: `context.functionId` and `SKYSCALE_FUNCTION_ID` inside (its objects are at `$API_BASE_URL/<id>/…`). */
  functionId?: string;
  functionName: string;
  functionVersion: string;
  /** Absolute epoch-ms deadline for importing the module (top-level code runs here). */
  deadlineMs: number;
  /**
   * The function's own limits. They can only narrow the limits the instance was started with
   * (a RangeError otherwise): start stem cells at the largest size they may be specialised for.
   * tmpSizeMb is fixed at start. Node's heap cap (0.75 × the start memoryMb) stays; the cgroup
   * limit is what enforces the narrower value. `cpuQuotaPercent` is set, higher or lower than the
   * start's (left out, the start's stays): the quota a runtime boots under need not be its function's.
   */
  limits?: Omit<ResourceLimits, 'tmpSizeMb'>;
  /**
   * An HTTP API of the host the function may call with no credentials of its own. The driver makes it
   * reachable inside the sandbox at the loopback URL it puts in `API_BASE_URL` (the sandbox gets no
   * other network), and only while a load or an invocation is in flight: outside one, requests are
   * refused. Served until the instance exits.
   */
  hostApi?: HostApi;
}

/** The host API of an instance, and how many connections it may hold to it. */
export interface HostApi {
  listener: RequestListener;
  /**
   * Connections open at once: the bootstrap forwards this many and lets further ones wait inside the
   * sandbox. Code that reaches the host's end directly is answered 429 TOO_MANY_CONNECTIONS past twice this.
   */
  maxConnections: number;
  /** Shared with other instances (those of one owner): a connection it has no room for is answered 429 TOO_MANY_CONNECTIONS. */
  budget?: ConnectionBudget;
}

export interface ConnectionBudget {
  /** Takes room for one connection; false when there is none. */
  tryTake(): boolean;
  /** Gives back what tryTake took, when its connection closes. */
  giveBack(): void;
}

export interface InvokeRequest {
  executionId: string;
  /**
   * Any JSON-serialisable value; passed to the handler as its first argument (wasm: as JSON on stdin;
   * command: `JSON.stringify(event)` byte for byte as argv[1] and on stdin).
   */
  event: unknown;
  /** `event` as the JSON text it was parsed from, when the caller has it: sent as is instead of re-serialising the event. */
  eventJson?: string;
  /** Absolute epoch-ms deadline. The instance is killed when it passes; the outcome is `timeout`. */
  deadlineMs: number;
}


/** Flow-control window of a stream session, per direction (docs/streams.md). */
export const STREAM_DEFAULTS = Object.freeze({ windowMessages: 64, windowBytes: 1024 * 1024, maxMessageBytes: 1024 * 1024 });

export interface StreamRequest {
  executionId: string;
  /** Absolute epoch-ms end of the session: past it the instance is killed (`timeout`). */
  deadlineMs: number;
  /** Path, query and headers of the connection, as the function sees them (no credentials). */
  request: { path: string; query: Record<string, string>; headers: Record<string, string> };
  /** Each message the function sends, in order. Call `session.release()` once it has been written out. */
  onMessage(message: StreamMessage): void;
  /** The function asked to close the connection with this code and reason. */
  onClose(code: number, reason: string): void;
  /** write() returned false earlier and the function has now taken enough to accept more. */
  onWritable(): void;
  /** Overrides STREAM_DEFAULTS (tests, benchmarks). */
  window?: { messages: number; bytes: number };
  maxMessageBytes?: number;
}

/**
 * A bidirectional message session with the loaded function, which runs its handler with a stream
 * object for as long as the session lasts. The instance is `busy` meanwhile and serves nothing else.
 */
export interface StreamSession {
  /** Settles when the handler returned (`ok`, its return value as result) or threw, or the instance died. */
  readonly outcome: Promise<InvokeOutcome>;
  /**
   * Queues a message for the function. False once the function's window is full: stop reading the
   * client until onWritable. Messages queued meanwhile are kept (bounded by the caller pausing).
   */
  write(message: StreamMessage): boolean;
  /** One more of the function's messages (in order) has been written out: it may send another. */
  release(): void;
  /** The client is gone: the function's iterator ends after what it was already sent. Idempotent. */
  end(): void;
  /** Payload bytes the host holds for this session: queued for the function, plus delivered and not released. */
  readonly bufferedBytes: number;
}

/** Present on every outcome: the execution's stdout/stderr, bounded, in order, interleaved. */
export interface CapturedLogs {
  logs: string;
  logsTruncated: boolean;
  durationMs: number;
}

export type FailureOutcome =
  /** name '' = an error the function reported as data (`{"error": ...}` on a command's or module's stdout). */
  | (CapturedLogs & { kind: 'error'; name: string; message: string; stack: string })
  | (CapturedLogs & { kind: 'timeout'; timeoutMs: number })
  | (CapturedLogs & { kind: 'oom'; memoryMb: number })
  | (CapturedLogs & { kind: 'output_truncated'; outputBytes: number })
  /** `stopped`: the instance's owner killed it (kill()) under the call, which was no doing of the call's code. */
  | (CapturedLogs & { kind: 'crashed'; exitCode: number | null; signal: string | null; reason: string; stopped?: boolean });

/**
 * Closed result taxonomy. After `ok` and `error` the instance is normally reusable; after the
 * others it is dead or dying. Callers decide reuse by `instance.state`, never by the kind.
 */
export type InvokeOutcome = (CapturedLogs & { kind: 'ok'; result: unknown }) | FailureOutcome;

/** A failed load (syntax error, missing export...) also kills the instance: its module state is unusable. */
export type LoadOutcome = (CapturedLogs & { kind: 'loaded' }) | FailureOutcome;

export type { InstanceState };

export type ExitCause = 'killed' | 'timeout' | 'oom' | 'output_truncated' | 'crashed';

export interface InstanceExit {
  cause: ExitCause;
  reason: string;
  exitCode: number | null;
  signal: string | null;
  /** Last few KiB the runtime wrote to its raw stderr, for diagnosing crashes. */
  stderrTail: string;
}

export interface InstanceStats {
  memoryBytes: number;
  memoryPeakBytes: number | null;
  /** The instance's current memory limit (what memoryBytes is measured against). */
  memoryLimitBytes: number;
  /** CPU time used since start, all processes and threads together. */
  cpuMs: number;
  /** The CPU quota in cores (1 = one full core), null when the instance has no quota. */
  cpuLimitCores: number | null;
  /**
   * Block-device bytes read + written since start (cgroup blkio/io.stat, or /proc/<pid>/io read_bytes +
   * write_bytes), null where the host cannot tell. Writes to the sandbox's tmpfs are memory, not I/O.
   */
  ioBytes: number | null;
  processes: number;
  /** Where the numbers come from: the instance's cgroup, or a walk of /proc (fallback). */
  source: 'cgroup' | 'proc';
}

export interface SandboxInstance {
  readonly id: string;
  /** The runtime it was started as; after load, the runtime it was specialised as. */
  readonly runtime: SandboxRuntime;
  /** Host pid of the outermost process of the instance, null once it is gone. */
  readonly pid: number | null;
  readonly state: InstanceState;
  /** Settles once the instance is gone and its resources (cgroups, directories) are released. */
  readonly exited: Promise<InstanceExit>;
  load(request: LoadRequest): Promise<LoadOutcome>;
  invoke(request: InvokeRequest): Promise<InvokeOutcome>;
  /** Starts a stream session on a ready instance; it is `busy` until the session's outcome settles. */
  openStream(request: StreamRequest): StreamSession;
  /** A few file reads; call it when a number is needed, not on every invocation. */
  stats(): Promise<InstanceStats>;
  /** Host pids currently belonging to the instance (for audits and tests). */
  processes(): Promise<number[]>;
  /** SIGKILLs every process of the instance; settles when nothing of it is left. Idempotent. */
  kill(reason: string): Promise<InstanceExit>;
}

export interface CgroupCapabilities {
  version: 1 | 2 | null;
  /** Directory under which per-instance groups are created, per controller (v1) or unified (v2). */
  parents: Record<string, string>;
  memory: boolean;
  pids: boolean;
  cpu: boolean;
  cpuAccounting: boolean;
  /** Block I/O accounting (v1 blkio, v2 io): bytes read and written per instance. */
  io: boolean;
  freezer: boolean;
}

export interface SandboxCapabilities {
  driver: string;
  /** `bubblewrap` = namespaces + read-only root; `none` = operator opted out (SANDBOX=none). */
  isolation: 'bubblewrap' | 'none';
  /** False when start() would refuse: no bwrap and no opt-out, or the work dir is unreachable by sandbox uids. */
  usable: boolean;
  bwrap: { path: string; version: string; userNamespaces: boolean } | null;
  /** Sandboxed processes run as a distinct host uid per instance (needs root), else as the platform's uid. */
  uidPerInstance: boolean;
  /** A seccomp filter denies kernel interfaces functions have no use for (x86-64 with bubblewrap). */
  seccomp: boolean;
  cgroup: CgroupCapabilities;
  memoryLimit: 'cgroup' | 'rss-watchdog';
  pidsLimit: 'cgroup' | 'rlimit-nproc' | 'pid-namespace-only';
  cpuLimit: 'cgroup' | 'none';
  runtimes: Partial<Record<SandboxRuntime, { path: string; version: string }>>;
  warnings: string[];
}

export interface SandboxDriver {
  readonly name: string;
  /** What the host supports; cheap after the first call. Exposed at GET /api/v1/system. */
  probe(): Promise<SandboxCapabilities>;
  /** Resolves once the runtime inside is up and waiting for `load` (a stem cell). */
  start(spec: InstanceSpec): Promise<SandboxInstance>;
  /** Releases what the driver keeps ready beside its instances (not the instances themselves). */
  close?(): Promise<void>;
}

/** Thrown by start() when the host cannot provide the isolation the driver promises. */
export class SandboxUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxUnavailableError';
  }
}

/** Thrown by start() when this host lacks the runtime's interpreter (e.g. no php-cli). */
export class RuntimeUnavailableError extends SandboxUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailableError';
  }
}

/** Thrown by start() when the runtime process could not be brought up. */
export class SandboxStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxStartError';
  }
}

/** Programming error: an operation the instance's current state does not allow. */
export class SandboxStateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxStateError';
  }
}
