import { AppError } from '../core/errors.ts';
import { memoryFloorProblem } from '../core/memory-floors.ts';
import { RUNTIMES, type FunctionRoute, type Runtime, type StreamPolicy } from '../core/types.ts';
import { checkRoute, methodsOverlap, MAX_ROUTES_PER_FUNCTION } from './route-pattern.ts';

const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,127}$/u;

/**
 * Function names are NFC-normalised and limited to letters, digits, '.', '_' and '-' (starting with a
 * letter or digit): no path separators, whitespace, control characters or bidi overrides can get through,
 * so a name is safe in URLs, logs and paths.
 */
export function normaliseFunctionName(raw: string): string {
  const name = raw.normalize('NFC');
  if (!NAME_RE.test(name) || name.includes('..')) {
    throw new AppError('INVALID_NAME', "Function names are 1-128 letters, digits, '.', '_' or '-', start with a letter or digit, and contain no '..'");
  }
  return name;
}

export function checkRuntime(value: string): Runtime {
  if (!(RUNTIMES as readonly string[]).includes(value)) throw new AppError('VALIDATION_FAILED', `runtime must be one of ${RUNTIMES.join(', ')}`);
  return value as Runtime;
}

export const DEFAULT_HANDLERS: Record<Runtime, string> = {
  node: 'index.handler',
  python: 'main.handler',
  php: 'index.handler',
  wasm: 'main.wasm',
  command: 'main',
};

/** Source extensions a module-style handler may resolve to, by runtime. */
const MODULE_EXTENSIONS: Partial<Record<Runtime, string[]>> = {
  node: ['.js', '.mjs', '.cjs', '.ts', '.mts'],
  python: ['.py'],
  php: ['.php'],
};

const HANDLER_RE = /^(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+$/;

export function checkHandler(runtime: Runtime, handler: string): string {
  if (handler.length > 256 || !HANDLER_RE.test(handler) || handler.split('/').some((s) => s === '.' || s === '..')) {
    throw new AppError('VALIDATION_FAILED', 'handler must be a relative path inside the code, like "index.handler" or "src/main.handler"');
  }
  if (MODULE_EXTENSIONS[runtime] !== undefined && !/\.[A-Za-z_$][\w$]*$/.test(handler)) {
    throw new AppError('VALIDATION_FAILED', `a ${runtime} handler is "<module>.<function>", e.g. "${DEFAULT_HANDLERS[runtime]}"`);
  }
  if (runtime === 'wasm' && !handler.endsWith('.wasm')) {
    throw new AppError('VALIDATION_FAILED', 'a wasm handler is the path of the module file in the code, e.g. "main.wasm"');
  }
  return handler;
}

/** At least the runtime's floor (the sandbox refuses less); the schema bounds the range. */
export function checkMemory(runtime: Runtime, memoryMb: number): number {
  const problem = memoryFloorProblem(runtime, memoryMb);
  if (problem !== null) throw new AppError('VALIDATION_FAILED', problem);
  return memoryMb;
}

export function checkTimeout(timeoutMs: number, maxTimeoutMs: number): number {
  if (timeoutMs > maxTimeoutMs) throw new AppError('VALIDATION_FAILED', `timeoutMs must be at most ${maxTimeoutMs} on this server (MAX_TIMEOUT_SECONDS)`);
  return timeoutMs;
}

/** A function's own CPU quota, within the server's bounds (MIN_CPU_QUOTA_PERCENT..MAX_CPU_QUOTA_PERCENT). */
export function checkCpuQuota(percent: number, bounds: { minPercent: number; maxPercent: number }): number {
  if (!Number.isInteger(percent) || percent < bounds.minPercent || percent > bounds.maxPercent) {
    throw new AppError('VALIDATION_FAILED', `cpuQuotaPercent must be a whole number from ${bounds.minPercent} to ${bounds.maxPercent} on this server (MIN_CPU_QUOTA_PERCENT, MAX_CPU_QUOTA_PERCENT)`);
  }
  return percent;
}

/** Command functions often run batch work: they get the seed's 5 minutes unless they set a timeout (bounded by the server's maximum). */
export const COMMAND_DEFAULT_TIMEOUT_MS = 5 * 60_000;

export function defaultTimeoutMs(runtime: Runtime): number {
  return runtime === 'command' ? COMMAND_DEFAULT_TIMEOUT_MS : LIMITS.timeoutMs.default;
}

/** Refuses a wasm entry that is not a WebAssembly module, at deploy rather than at the first invocation. */
export function checkWasmModule(entry: string, bytes: Buffer): void {
  if (!WebAssembly.validate(new Uint8Array(bytes))) {
    const why = bytes.subarray(0, 4).equals(Buffer.from('\0asm')) ? 'is not a valid WebAssembly module' : 'is not a WebAssembly binary (no \\0asm header; upload it as base64 or in a bundle)';
    throw new AppError('VALIDATION_FAILED', `"${entry}" ${why}`);
  }
}

/** The files in the code that may hold the handler's entry point. */
export function entryCandidates(runtime: Runtime, handler: string): string[] {
  const extensions = MODULE_EXTENSIONS[runtime];
  if (extensions === undefined) return [handler];
  const module = handler.slice(0, handler.lastIndexOf('.'));
  return extensions.map((ext) => module + ext);
}

/**
 * The handler one named file implies: the file itself for wasm and command; for module runtimes its
 * module with `exportName` (`chat.js` → `chat.handler`), or undefined when the file has none of the
 * runtime's extensions.
 */
export function handlerForFile(runtime: Runtime, file: string, exportName = 'handler'): string | undefined {
  const extensions = MODULE_EXTENSIONS[runtime];
  if (extensions === undefined) return file;
  const ext = extensions.find((e) => file.endsWith(e) && file.length > e.length);
  return ext === undefined ? undefined : `${file.slice(0, -ext.length)}.${exportName}`;
}

/** The function a module-style handler names (`index.handler` → `handler`). */
export const exportOf = (handler: string): string => handler.slice(handler.lastIndexOf('.') + 1);

/** The module runtime whose default entry the files hold (index.js, main.py, index.php…); undefined unless exactly one. */
export function inferRuntime(files: { has(path: string): boolean }): Runtime | undefined {
  const found = (['node', 'python', 'php'] as const).filter((r) => entryCandidates(r, DEFAULT_HANDLERS[r]).some((f) => files.has(f)));
  return found.length === 1 ? found[0] : undefined;
}

/** Where inline `code` is stored when no filename is given. */
export function defaultInlineFilename(runtime: Runtime, handler: string): string {
  return entryCandidates(runtime, handler)[0];
}

const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_ENV_BYTES = 64 * 1024;

export function checkEnv(env: Record<string, string>): Record<string, string> {
  let bytes = 0;
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY_RE.test(key)) throw new AppError('VALIDATION_FAILED', `env name "${key.slice(0, 64)}" must match ${ENV_KEY_RE.source}`);
    if (value.includes('\0')) throw new AppError('VALIDATION_FAILED', `env ${key} contains a NUL byte`);
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    clean[key] = value;
  }
  if (bytes > MAX_ENV_BYTES) throw new AppError('VALIDATION_FAILED', `env is larger than ${MAX_ENV_BYTES} bytes`);
  return clean;
}

export const LIMITS = {
  memoryMb: { min: 16, max: 8192, default: 128 },
  timeoutMs: { min: 1, max: 15 * 60_000, default: 30_000 },
  concurrency: { min: 1, max: 1000, default: 1 },
  maxInstances: { min: 1, max: 1000, default: 10 },
  maxAttempts: { min: 1, max: 100, default: 3 },
  streamMinFree: { min: 0, max: 100, default: 0 },
  streamIdleTimeoutMs: { min: 1000, max: 7 * 24 * 3_600_000, default: 15 * 60_000 },
} as const;

/** A stream policy from a deploy: fields left out keep `current`'s value (the defaults for a new function). */
export function streamPolicy(given: Partial<StreamPolicy> | undefined, current?: StreamPolicy): StreamPolicy {
  const policy = { minFree: given?.minFree ?? current?.minFree ?? LIMITS.streamMinFree.default, idleTimeoutMs: given?.idleTimeoutMs ?? current?.idleTimeoutMs ?? LIMITS.streamIdleTimeoutMs.default };
  for (const [field, limit] of [['minFree', LIMITS.streamMinFree], ['idleTimeoutMs', LIMITS.streamIdleTimeoutMs]] as const) {
    const value = policy[field];
    if (!Number.isInteger(value) || value < limit.min || value > limit.max) throw new AppError('VALIDATION_FAILED', `stream.${field} must be a whole number from ${limit.min} to ${limit.max}`);
  }
  return policy;
}

/**
 * A deploy's routes: each checked (functions/route-pattern.ts), at most MAX_ROUTES_PER_FUNCTION, and no two
 * of them matching the same requests. Conflicts with other functions are checked when they are stored.
 */
export function checkRoutes(routes: Array<{ method?: unknown; path?: unknown; auth?: unknown; eventShape?: unknown }>): Array<FunctionRoute & { shape: string }> {
  if (routes.length > MAX_ROUTES_PER_FUNCTION) throw new AppError('VALIDATION_FAILED', `a function declares at most ${MAX_ROUTES_PER_FUNCTION} routes`);
  const checked = routes.map(checkRoute);
  checked.forEach((route, i) => {
    const twin = checked.slice(0, i).find((r) => r.shape === route.shape && methodsOverlap(r.method, route.method));
    if (twin !== undefined) {
      throw new AppError('ROUTE_CONFLICT', `Route ${route.method} ${route.path} overlaps ${twin.method} ${twin.path} of the same deploy`, {
        details: { route: { method: route.method, path: route.path }, conflictsWith: { method: twin.method, path: twin.path } },
      });
    }
  });
  return checked;
}
