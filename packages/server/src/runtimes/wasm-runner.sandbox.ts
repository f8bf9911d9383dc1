/**
 * Skyscale WASM runtime. Runs INSIDE the sandbox, imported by the Node bootstrap when it is loaded as
 * `wasm`; node: builtins only, never host code. The module is compiled once, at load. Two shapes:
 *
 * - A WASI preview1 command module (exports `_start`): instantiated per invocation (a fresh linear
 *   memory each time: no state leaks between executions). The input JSON on stdin; the result JSON on
 *   stdout (`{"error": ...}` fails the execution); stderr to the logs; exit code 0.
 * - A module with an exported handler (exports `handle`, `alloc` and `memory`; a WASI reactor):
 *   instantiated once and kept warm, `_initialize` run at load. Per invocation the host calls
 *   `alloc(len)`, writes the input JSON there and calls `handle(ptr, len)`, which returns an i64:
 *   (pointer << 32) | length of the result JSON in its memory. stdout and stderr are logs. A trap or
 *   proc_exit fails the execution and discards the instance: the next invocation gets a new one.
 *
 * stdin/stdout/stderr never touch real fds: fd_read/fd_write for 0/1/2 are served from memory, so
 * output is bounded as it is written.
 */
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

export interface WasmIo {
  /** Text for the running execution's logs (counted towards its output limit). */
  log(stream: 'stdout' | 'stderr', text: string): void;
  /** Counts result bytes towards the output limit; past it the execution is reported and parked. */
  produced(bytes: number): void;
  env: Record<string, string>;
  /** Guest path → sandbox path of the directories the module may open. */
  preopens: Record<string, string>;
}

type Handler = (event: unknown) => unknown;
type WasiFunctions = Record<string, (...args: number[]) => number>;

const WASI_MODULE = 'wasi_snapshot_preview1';
const STDERR_TAIL_BYTES = 2048;
const EBADF = 8;
const SHOWN_OUTPUT_CHARS = 200;

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  err.stack = `${name}: ${message}`;
  return err;
}

/** An error the module reported as data (`{"error": ...}`): the bootstrap sends it without a name. */
function reportedError(message: string): Error {
  return Object.assign(new Error(message), { stack: '', reported: true });
}

/** Compiles and checks the module; returns the per-invocation handler. */
export function loadWasm(file: string, entry: string, io: WasmIo): Handler {
  let module: WebAssembly.Module;
  try {
    // Synchronous: the load waits for it anyway, and the async path costs ~7 ms more on a fresh isolate.
    module = new WebAssembly.Module(readFileSync(file));
  } catch (err) {
    throw namedError('InvalidModuleError', `'${entry}' is not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const foreign = WebAssembly.Module.imports(module).filter((i) => i.module !== WASI_MODULE);
  if (foreign.length > 0) throw namedError('InvalidModuleError', `'${entry}' imports ${foreign.map((i) => `${i.module}.${i.name}`).join(', ')}; only ${WASI_MODULE} (WASI preview1) is provided`);
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get('handle') === 'function') {
    if (exports.get('alloc') !== 'function' || exports.get('memory') !== 'memory') throw namedError('InvalidModuleError', `'${entry}' exports handle, so it must also export alloc and memory`);
    if (exports.has('_start')) throw namedError('InvalidModuleError', `'${entry}' exports both handle and _start; a module with a handler is a WASI reactor (no _start)`);
    return handlerModule(module, entry, io);
  }
  if (exports.get('_start') !== 'function' || exports.get('memory') !== 'memory') {
    throw namedError('InvalidModuleError', `'${entry}' must be a WASI command module exporting _start and memory, or export handle, alloc and memory`);
  }
  return (event) => runCommand(module, entry, event, io);
}

/** The standard streams of one invocation, in memory. `stdout: null` sends stdout to the logs. */
class Stdio {
  readonly input: Buffer;
  inputOffset = 0;
  readonly stdout: Buffer[] | null;
  stderrTail = Buffer.alloc(0);
  readonly #io: WasmIo;
  readonly #decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };

  constructor(io: WasmIo, input: Buffer, captureStdout: boolean) {
    this.#io = io;
    this.input = input;
    this.stdout = captureStdout ? [] : null;
  }

  write(fd: 1 | 2, bytes: Uint8Array): void {
    if (fd === 1 && this.stdout) {
      this.stdout.push(Buffer.from(bytes));
      this.#io.produced(bytes.length);
      return;
    }
    if (fd === 2) this.stderrTail = Buffer.concat([this.stderrTail, bytes]).subarray(-STDERR_TAIL_BYTES);
    const stream = fd === 1 ? 'stdout' : 'stderr';
    this.#io.log(stream, this.#decoders[stream].decode(bytes, { stream: true }));
  }

  /** Flushes partial characters to the logs. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#decoders[stream].decode();
      if (rest) this.#io.log(stream, rest);
    }
  }

  tail(): string {
    const text = this.stderrTail.toString('utf8').trim();
    return text ? `; stderr: ${text}` : '';
  }
}

/** WASI imports whose fds 0/1/2 are the invocation's in-memory Stdio; other fds go to node:wasi. */
function wasiImports(wasi: WASI, memory: () => WebAssembly.Memory, stdio: () => Stdio): WasiFunctions {
  const base = (wasi.getImportObject() as Record<string, unknown>)[WASI_MODULE] as WasiFunctions;
  /** The iovec list (ptr, len pairs) the guest passed, as views of its memory. */
  const buffers = (iovs: number, count: number): Uint8Array[] => {
    const { buffer } = memory();
    const view = new DataView(buffer);
    return Array.from({ length: count }, (_, i) => new Uint8Array(buffer, view.getUint32(iovs + i * 8, true), view.getUint32(iovs + i * 8 + 4, true)));
  };
  const fd_write = (fd: number, iovs: number, count: number, written: number): number => {
    if (fd !== 1 && fd !== 2) return fd === 0 ? EBADF : base.fd_write!(fd, iovs, count, written);
    let total = 0;
    for (const bytes of buffers(iovs, count)) {
      total += bytes.length;
      stdio().write(fd, bytes);
    }
    new DataView(memory().buffer).setUint32(written, total, true);
    return 0;
  };
  const fd_read = (fd: number, iovs: number, count: number, read: number): number => {
    if (fd !== 0) return base.fd_read!(fd, iovs, count, read);
    const current = stdio();
    let total = 0;
    for (const bytes of buffers(iovs, count)) {
      const n = current.input.copy(bytes, 0, current.inputOffset);
      current.inputOffset += n;
      total += n;
    }
    new DataView(memory().buffer).setUint32(read, total, true);
    return 0;
  };
  return { ...base, fd_write, fd_read };
}

function newWasi(entry: string, io: WasmIo): WASI {
  // returnOnExit: proc_exit must never end the bootstrap; node:wasi throws instead, caught below.
  return new WASI({ version: 'preview1', args: [entry], env: io.env, preopens: io.preopens, returnOnExit: true });
}

function runCommand(module: WebAssembly.Module, entry: string, event: unknown, io: WasmIo): unknown {
  const stdio = new Stdio(io, Buffer.from(JSON.stringify(event ?? null)), true);
  const wasi = newWasi(entry, io);
  let memory: WebAssembly.Memory | undefined;
  const instance = new WebAssembly.Instance(module, { [WASI_MODULE]: wasiImports(wasi, () => memory!, () => stdio) });
  memory = instance.exports.memory as WebAssembly.Memory;
  let code: number;
  try {
    code = wasi.start(instance) ?? 0;
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw namedError('WasmTrap', `the module trapped: ${err.message}${stdio.tail()}`);
    throw err;
  } finally {
    stdio.end();
  }
  const text = Buffer.concat(stdio.stdout!).toString('utf8').trim();
  let parsed = parseJson(text);
  if (!parsed && text.includes('\n')) {
    // Progress lines before a final JSON line: the last line is the result, the rest are logs.
    const cut = text.lastIndexOf('\n');
    parsed = parseJson(text.slice(cut + 1));
    if (parsed) io.log('stdout', `${text.slice(0, cut)}\n`);
  }
  throwIfReported(parsed);
  if (code !== 0) throw namedError('ExitError', `the module exited with status ${code}${stdio.tail()}`);
  if (parsed) return parsed.value;
  if (text === '') throw namedError('InvalidOutputError', `the module printed nothing on stdout; it must print its result as JSON${stdio.tail()}`);
  io.log('stdout', `${text}\n`);
  throw namedError('InvalidOutputError', `the module's stdout is not JSON: ${shorten(text)}`);
}

interface LiveInstance {
  memory: WebAssembly.Memory;
  alloc: (size: number) => number;
  handle: (ptr: number, len: number) => unknown;
}

function handlerModule(module: WebAssembly.Module, entry: string, io: WasmIo): Handler {
  let stdio = new Stdio(io, Buffer.alloc(0), false);
  let live: LiveInstance | null = null;
  const instantiate = (): LiveInstance => {
    const wasi = newWasi(entry, io);
    let memory: WebAssembly.Memory | undefined;
    const instance = new WebAssembly.Instance(module, { [WASI_MODULE]: wasiImports(wasi, () => memory!, () => stdio) });
    memory = instance.exports.memory as WebAssembly.Memory;
    guarded(stdio, () => wasi.initialize(instance));
    const { alloc, handle } = instance.exports as unknown as Omit<LiveInstance, 'memory'>;
    return { memory, alloc, handle };
  };
  live = instantiate();
  return (event) => {
    const input = Buffer.from(JSON.stringify(event ?? null));
    stdio = new Stdio(io, input, false);
    let text: string;
    try {
      live ??= instantiate();
      const instance = live;
      text = guarded(stdio, () => {
        const ptr = instance.alloc(input.length) >>> 0;
        new Uint8Array(instance.memory.buffer).set(input, ptr);
        const packed = instance.handle(ptr, input.length);
        if (typeof packed !== 'bigint') throw namedError('InvalidModuleError', `${entry}: handle must return an i64, (pointer << 32) | length of the result`);
        const [at, length] = [Number(BigInt.asUintN(64, packed) >> 32n), Number(BigInt.asUintN(32, packed))];
        if (at + length > instance.memory.buffer.byteLength) throw namedError('InvalidOutputError', `${entry}: handle returned ${length} bytes at ${at}, outside its memory`);
        io.produced(length);
        return Buffer.from(instance.memory.buffer, at, length).toString('utf8');
      });
    } catch (err) {
      live = null;
      throw err;
    } finally {
      stdio.end();
    }
    const parsed = parseJson(text.trim());
    throwIfReported(parsed);
    if (parsed) return parsed.value;
    throw namedError('InvalidOutputError', `the result of handle is not JSON: ${shorten(text.trim()) || '(empty)'}`);
  };
}

/** Runs guest code: a trap or proc_exit becomes an error that says so. */
function guarded<T>(stdio: Stdio, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw namedError('WasmTrap', `the module trapped: ${err.message}${stdio.tail()}`);
    // node:wasi (returnOnExit) unwinds proc_exit by throwing a symbol; start() catches it, other calls do not.
    if (typeof err === 'symbol') throw namedError('ExitError', `the module called proc_exit${stdio.tail()}`);
    throw err;
  }
}

function throwIfReported(parsed: { value: unknown } | null): void {
  const value = parsed?.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('error' in value)) return;
  const error = (value as { error: unknown }).error;
  if (error !== null && error !== false) throw reportedError(typeof error === 'string' ? error : JSON.stringify(error));
}

function parseJson(text: string): { value: unknown } | null {
  if (text === '') return null;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

function shorten(text: string): string {
  return text.length > SHOWN_OUTPUT_CHARS ? `${text.slice(0, SHOWN_OUTPUT_CHARS)}…` : text;
}
