/**
 * Skyscale Node runtime bootstrap. Runs INSIDE the sandbox: it may import node: builtins only,
 * never host code. The driver compiles it once to a CommonJS file (see runtime-files.ts).
 *
 * Protocol (NDJSON): reads host messages on fd 3, writes its own on fd 4.
 *   in:  {type:'load', id, runtime, handler, env, functionId, functionName, functionVersion, limits:{logBytes, outputBytes}, api?:{socket}}
 *        {type:'invoke', id, event, context:{executionId, deadline}}
 *   out: {type:'ready', runtime, version}  {type:'log', id, stream, data}
 *        {type:'loaded', id, ok, error?, dropped}  {type:'result', id, ok, result|error, dropped}
 *        {type:'output_exceeded', id, bytes}
 *   stream sessions: stream_open / stream_data / stream_end / stream_credit in, stream_data / stream_ack /
 *   stream_close out, then the session's `result` (node-stream.sandbox.ts, loaded on first use).
 * User output (console, process.stdout/stderr) never reaches fd 1/2: it becomes `log` messages.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isUtf8 } from 'node:buffer';
import { closeSync, existsSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, Socket } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, inspect, types } from 'node:util';

const FD_IN = 3;
const FD_OUT = 4;
const O_CLOEXEC = 0o2000000;
const CODE_ROOT = process.argv[2] ?? '/code';
// Not import.meta: this file runs as CommonJS. Node sets argv[1] to the entry's absolute path.
const BOOTSTRAP_FILE = process.argv[1] ?? '';
/** The runtime directory: the WASM runner and the stream module sit next to this file. */
const runtimeFile = (name: string): string => pathToFileURL(path.join(path.dirname(BOOTSTRAP_FILE), name)).href;
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

interface Execution {
  id: string;
  forwarded: number;
  produced: number;
  dropped: number;
  finished: boolean;
  /** A stream session: its logs are bounded but never fatal (it may run for hours). */
  stream: boolean;
  /** Rejects the execution from an uncaught exception / unhandled rejection raised by its code. */
  fail: (reason: unknown) => void;
  failed: Promise<never>;
}

interface ErrorPayload {
  name: string;
  message: string;
  stack: string;
}

type Handler = (event: unknown, context: unknown) => unknown;

const writeToFd = writeSync;
const executions = new AsyncLocalStorage<Execution>();
const inflight = new Map<string, Execution>();
let limits = { logBytes: 256 * 1024, outputBytes: 6 * 1024 * 1024 };
/** `stream` is the module's `stream` export (WebSocket stream sessions), null when it has none. */
let fn: { handler: Handler; stream: Handler | null; id: string; name: string; version: string } | null = null;

function send(line: string): void {
  const bytes = Buffer.from(line);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeToFd(FD_OUT, bytes, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      sleepMs(1);
    }
  }
}

function sendMessage(message: object): void {
  send(`${JSON.stringify(message)}\n`);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Fds inherited by accident from the host (no close-on-exec) must not be reachable by user code. */
function closeInheritedFds(): void {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= FD_OUT) continue;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) closeSync(fd);
    } catch {
      // the fd was the directory listing itself, or is already gone
    }
  }
}

function newExecution(id: string, stream = false): Execution {
  let fail: (reason: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const execution = { id, forwarded: 0, produced: 0, dropped: 0, finished: false, stream, fail, failed };
  inflight.set(id, execution);
  return execution;
}

function finish(execution: Execution): void {
  execution.finished = true;
  inflight.delete(execution.id);
}

function currentExecution(): Execution | undefined {
  return executions.getStore() ?? (inflight.size === 1 ? inflight.values().next().value : undefined);
}

function capture(execution: Execution | undefined, stream: 'stdout' | 'stderr', text: string): void {
  if (!execution || execution.finished || text.length === 0) return;
  const bytes = Buffer.byteLength(text);
  execution.produced += bytes;
  const room = limits.logBytes - execution.forwarded;
  if (room > 0) {
    const data = bytes <= room ? text : Buffer.from(text).subarray(0, room).toString('utf8').replace(/\uFFFD$/, '');
    execution.forwarded += Math.min(bytes, room);
    execution.dropped += Math.max(0, bytes - room);
    sendMessage({ type: 'log', id: execution.id, stream, data });
  } else {
    execution.dropped += bytes;
  }
  checkOutputBound(execution);
}

function checkOutputBound(execution: Execution): void {
  if (execution.produced > limits.outputBytes && !execution.stream) {
    sendMessage({ type: 'output_exceeded', id: execution.id, bytes: execution.produced });
    // The spewing code may be a synchronous loop we cannot interrupt: park the thread, the host kills us.
    for (;;) sleepMs(60_000);
  }
}

function interceptStdio(): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    const write = (chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
      capture(currentExecution(), stream, text);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    };
    target.write = write as typeof target.write;
  }
}

function serializeError(err: unknown): ErrorPayload {
  if (types.isNativeError(err) || err instanceof Error) {
    const e = err as Error;
    // An error the function reported as data (a wasm module's {"error": ...}) has no exception name.
    const reported = (e as { reported?: unknown }).reported === true;
    return { name: reported ? '' : safeString(() => e.name) || 'Error', message: safeString(() => e.message), stack: userStack(safeString(() => e.stack ?? '')) };
  }
  return { name: 'Error', message: `Non-Error value thrown: ${inspect(err, { depth: 2, breakLength: Infinity })}`, stack: '' };
}

/** The user's frames only: the bootstrap and Node internals are noise to them. */
function userStack(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => !/^\s+at /.test(line) || !(line.includes(BOOTSTRAP_FILE) || line.includes('node:internal') || line.includes('node:async_hooks')))
    .join('\n');
}

function safeString(read: () => unknown): string {
  try {
    return String(read() ?? '');
  } catch {
    return '';
  }
}

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  err.stack = `${name}: ${message}`;
  return err;
}

function resolveModuleFile(modulePath: string): string {
  const base = path.resolve(CODE_ROOT, modulePath);
  if (!base.startsWith(`${CODE_ROOT}/`)) throw namedError('HandlerNotFoundError', `Handler module '${modulePath}' is outside the code directory`);
  for (const ext of MODULE_EXTENSIONS) if (existsSync(base + ext)) return base + ext;
  if (path.extname(base) !== '' && existsSync(base)) return base;
  throw namedError('HandlerNotFoundError', `Cannot find module '${modulePath}' (tried ${MODULE_EXTENSIONS.map((e) => modulePath + e).join(', ')})`);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  if (file.endsWith('.cjs') || file.endsWith('.cts')) {
    const exported: unknown = createRequire(file)(file);
    return { default: exported, ...(typeof exported === 'object' && exported !== null ? exported : {}) };
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

function pickHandler(mod: Record<string, unknown>, exportName: string, spec: string): Handler {
  const fallback = mod.default as Record<string, unknown> | undefined;
  const candidates = [mod[exportName], typeof fallback === 'object' || typeof fallback === 'function' ? fallback?.[exportName] : undefined, fallback];
  const found = candidates.find((c) => typeof c === 'function');
  if (found) return found as Handler;
  const exported = Object.keys(mod).join(', ') || 'nothing';
  throw namedError('HandlerNotFoundError', `Handler '${spec}': no function '${exportName}' or default export (module exports ${exported})`);
}

/** A module that only streams loads fine; invoking it then fails with the missing-handler error. */
function pickHandlerOr(mod: Record<string, unknown>, spec: string): Handler {
  try {
    return pickHandler(mod, spec.slice(spec.lastIndexOf('.') + 1), spec);
  } catch (err) {
    return () => {
      throw err;
    };
  }
}

function pickStream(mod: Record<string, unknown>): Handler | null {
  const fallback = mod.default as Record<string, unknown> | undefined;
  const found = [mod.stream, typeof fallback === 'object' || typeof fallback === 'function' ? fallback?.stream : undefined].find((c) => typeof c === 'function');
  return (found as Handler | undefined) ?? null;
}

interface WasmRunner {
  loadWasm(file: string, entry: string, io: { log(stream: 'stdout' | 'stderr', text: string): void; produced(bytes: number): void; env: Record<string, string>; preopens: Record<string, string> }): Handler;
}

/** The wasm runtime: a WASI module run by wasm-runner.mjs, beside this file (imported only when needed). */
async function loadWasmHandler(entry: string): Promise<Handler> {
  const file = path.resolve(CODE_ROOT, entry);
  if (!file.startsWith(`${CODE_ROOT}/`) || !existsSync(file)) throw namedError('HandlerNotFoundError', `Cannot find the module file '${entry}' in the code`);
  // node:wasi announces itself as experimental on import; that is not the function's output.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  let runner: WasmRunner;
  try {
    runner = (await import(runtimeFile('wasm-runner.mjs'))) as WasmRunner;
  } finally {
    process.emitWarning = emitWarning;
  }
  return runner.loadWasm(file, entry, {
    log: (stream, text) => capture(currentExecution(), stream, text),
    produced: (bytes) => {
      const execution = currentExecution();
      if (!execution) return;
      execution.produced += bytes;
      checkOutputBound(execution);
    },
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    preopens: { '/code': CODE_ROOT, '/tmp': process.env.TMPDIR ?? '/tmp' },
  });
}

let hostApiSocket = '';
let hostApiForwarder: Promise<string> | null = null;
/** Connections forwarded at once (each costs the platform a descriptor); further ones wait here, in order. */
let hostApiMaxConnections = 16;
let hostApiForwarding = 0;
const hostApiWaiting: Socket[] = [];

function forwardToHost(client: Socket): void {
  hostApiForwarding++;
  const upstream = connect(hostApiSocket);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => {
    client.destroy();
    hostApiForwarding--;
    let next: Socket | undefined;
    while ((next = hostApiWaiting.shift()) !== undefined && next.destroyed);
    if (next !== undefined) forwardToHost(next);
  });
  client.pipe(upstream).pipe(client);
}

/**
 * The host API is a Unix socket; code reaches it as http://127.0.0.1:<port>. Sandboxed (we are pid 1
 * of our own namespaces), loopback is the only interface, so the forwarder listens with no host, and
 * does so while the instance is still a stem cell: listening costs ~2 ms, with a host ~10 ms more
 * (the name goes through the libuv thread pool). Unsandboxed, it is bound at load to the host's loopback.
 */
async function startHostApiForwarder(host?: string): Promise<string> {
  const server = createServer((client) => {
    if (!hostApiSocket) return client.destroy();
    if (hostApiForwarding < hostApiMaxConnections) return forwardToHost(client);
    client.on('error', () => {});
    hostApiWaiting.push(client);
  });
  server.unref();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(host ? { port: 0, host } : { port: 0 }, () => resolve(null));
  });
  server.on('error', (err) => writeToFd(2, `skyscale runtime: host API forwarder failed: ${err.message}\n`));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function forwardHostApi(api: { socket: string; host?: string; maxConnections?: number }): Promise<string> {
  hostApiSocket = api.socket;
  if (api.maxConnections) hostApiMaxConnections = api.maxConnections;
  hostApiForwarder ??= startHostApiForwarder(api.host);
  return hostApiForwarder;
}

async function load(message: { id: string; runtime?: string; handler: string; env?: Record<string, string>; functionId?: string; functionName?: string; functionVersion?: string; limits?: typeof limits; api?: { socket: string; host?: string; maxConnections?: number } }): Promise<void> {
  if (message.limits) limits = message.limits;
  for (const [name, value] of Object.entries(message.env ?? {})) process.env[name] = String(value);
  const execution = newExecution(message.id);
  try {
    if (message.api) process.env.API_BASE_URL = await forwardHostApi(message.api);
    if (message.runtime === 'wasm') {
      const handler = await executions.run(execution, () => loadWasmHandler(message.handler));
      fn = { handler, stream: null, id: message.functionId ?? '', name: message.functionName ?? '', version: message.functionVersion ?? '' };
      finish(execution);
      sendMessage({ type: 'loaded', id: execution.id, ok: true, dropped: execution.dropped });
      return;
    }
    const dot = message.handler.lastIndexOf('.');
    if (dot <= 0 || dot === message.handler.length - 1) throw namedError('HandlerNotFoundError', `Handler '${message.handler}' must look like 'file.export'`);
    const file = resolveModuleFile(message.handler.slice(0, dot));
    const mod = await executions.run(execution, () => Promise.race([importModule(file), execution.failed]));
    const stream = pickStream(mod);
    const handler = stream === null ? pickHandler(mod, message.handler.slice(dot + 1), message.handler) : pickHandlerOr(mod, message.handler);
    fn = { handler, stream, id: message.functionId ?? '', name: message.functionName ?? '', version: message.functionVersion ?? '' };
    finish(execution);
    sendMessage({ type: 'loaded', id: execution.id, ok: true, dropped: execution.dropped });
  } catch (err) {
    finish(execution);
    sendMessage({ type: 'loaded', id: execution.id, ok: false, error: serializeError(err), dropped: execution.dropped });
  }
}

async function invoke(message: { id: string; event?: unknown; context?: { executionId?: string; deadline?: number } }): Promise<void> {
  const execution = newExecution(message.id);
  const deadline = Number(message.context?.deadline ?? 0);
  const context = {
    executionId: message.context?.executionId ?? message.id,
    functionId: fn?.id ?? '',
    functionName: fn?.name ?? '',
    functionVersion: fn?.version ?? '',
    deadline,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    log: (...args: unknown[]) => capture(execution, 'stdout', `${format(...args)}\n`),
  };
  let line: string | null;
  try {
    if (!fn) throw namedError('NotLoadedError', 'No function is loaded in this instance');
    const handler = fn.handler;
    const value = await executions.run(execution, () => Promise.race([handler(message.event ?? null, context), execution.failed]));
    line = resultLine(execution, isWebResponse(value) ? await fromWebResponse(value) : value);
  } catch (err) {
    const outOfMemory = err instanceof RangeError && /allocation failed/i.test(err.message);
    line = `${JSON.stringify({ type: 'result', id: execution.id, ok: false, error: serializeError(err), dropped: execution.dropped, outOfMemory })}\n`;
  }
  finish(execution);
  if (line !== null) send(line);
}

/** Runs a stream session's handler as execution `id` (its stream object comes from node-stream). */
async function runStream(id: string, call: (context: Record<string, unknown>) => unknown, ctx: { executionId?: string; deadline?: number; request: unknown }): Promise<void> {
  const execution = newExecution(id, true);
  const deadline = Number(ctx.deadline ?? 0);
  const context = {
    executionId: ctx.executionId ?? id,
    functionId: fn?.id ?? '',
    functionName: fn?.name ?? '',
    functionVersion: fn?.version ?? '',
    deadline,
    mode: 'stream',
    request: ctx.request,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    log: (...args: unknown[]) => capture(execution, 'stdout', `${format(...args)}\n`),
  };
  let line: string | null;
  try {
    const value = await executions.run(execution, () => Promise.race([call(context), execution.failed]));
    line = resultLine(execution, value);
  } catch (err) {
    line = `${JSON.stringify({ type: 'result', id, ok: false, error: serializeError(err), dropped: execution.dropped, outOfMemory: err instanceof RangeError && /allocation failed/i.test(err.message) })}\n`;
  }
  finish(execution);
  if (line !== null) send(line);
}

type StreamModule = { dispatch(message: { type?: string; id: string }): void };
let streams: Promise<StreamModule> | null = null;

/** The stream code is imported on the first session only, so it costs nothing to a cold start. */
function streamModule(): Promise<StreamModule> {
  streams ??= import(runtimeFile('node-stream.mjs')).then((m: { createStreams: (host: unknown, handler: () => unknown) => StreamModule }) =>
    m.createStreams({ send, run: runStream }, () => fn?.stream ?? null));
  return streams;
}

const TEXT_TYPE = /^\s*(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson|yaml|x-yaml|ld\+json)\b|[a-z]+\/[^;\s]*\+(?:json|xml)\b)/i;

/**
 * Tells a Web `Response` apart without touching the global `Response` for other values: its first
 * use loads Node's fetch implementation, ~25 ms on an instance's first invocation. Only code that
 * used `Response` or `fetch` itself can return one, and then the global is loaded already.
 */
function isWebResponse(value: unknown): value is Response {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Response]' && value instanceof Response;
}

/** A Web `Response` becomes the gateway's `{statusCode, headers, body, isBase64Encoded}` (binary as base64). */
async function fromWebResponse(response: Response): Promise<object> {
  const bytes = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const type = response.headers.get('content-type') ?? '';
  const text = (type === '' || TEXT_TYPE.test(type)) && isUtf8(bytes);
  return { statusCode: response.status, headers, body: bytes.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text };
}

/** The result is spliced in as already-serialised JSON so it is stringified exactly once. */
function resultLine(execution: Execution, value: unknown): string | null {
  let json: string | undefined;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    const error = { name: 'TypeError', message: `Handler result is not JSON-serialisable: ${(err as Error).message}`, stack: '' };
    return `${JSON.stringify({ type: 'result', id: execution.id, ok: false, error, dropped: execution.dropped })}\n`;
  }
  json ??= 'null';
  if (Buffer.byteLength(json) > limits.outputBytes) {
    sendMessage({ type: 'output_exceeded', id: execution.id, bytes: Buffer.byteLength(json) });
    return null;
  }
  return `{"type":"result","id":${JSON.stringify(execution.id)},"ok":true,"dropped":${execution.dropped},"result":${json}}\n`;
}

/** Errors thrown outside the handler's promise chain belong to the execution that caused them. */
function onStrayError(err: unknown): void {
  const execution = currentExecution();
  if (execution && !execution.finished) {
    execution.fail(err);
    return;
  }
  writeToFd(2, `skyscale runtime: uncaught error outside any execution: ${serializeError(err).stack || inspect(err)}\n`);
  process.exit(70);
}

function dispatch(line: string): void {
  if (line.trim() === '') return;
  const message = JSON.parse(line) as { type?: string; id: string };
  if (message.type === 'load') void load(message as Parameters<typeof load>[0]);
  else if (message.type === 'invoke') void invoke(message);
  else if (message.type?.startsWith('stream_')) void streamModule().then((m) => m.dispatch(message));
}

function listen(): void {
  const input = new Socket({ fd: FD_IN, readable: true, writable: false });
  let buffered = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      dispatch(line);
    }
  });
  // The host closing the channel means this instance is no longer wanted.
  input.on('end', () => process.exit(0));
  input.on('error', () => process.exit(0));
}

closeInheritedFds();
interceptStdio();
process.on('uncaughtException', onStrayError);
process.on('unhandledRejection', onStrayError);
listen();
sendMessage({ type: 'ready', runtime: 'node', version: process.version });
if (process.pid === 1) {
  hostApiForwarder = startHostApiForwarder();
  // A failure here surfaces at load, which awaits the same promise.
  hostApiForwarder.catch(() => {});
}
