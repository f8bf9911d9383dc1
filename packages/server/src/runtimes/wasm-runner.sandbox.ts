/**
 * Skyscale WASM runtime. Runs INSIDE the sandbox, imported by the Node bootstrap when it is loaded as
 * `wasm`; node: builtins only, never host code.
 *
 * A WASI preview1 command module is compiled once at load and instantiated per invocation (a fresh
 * linear memory each time: no state leaks between executions). Contract, the same as the command
 * runtime's: the input JSON on stdin; the result JSON on stdout (`{"error": ...}` fails the execution);
 * stderr to the logs; exit code 0. stdin/stdout/stderr never touch real fds: fd_read/fd_write for
 * 0/1/2 are served from memory, so output is bounded as it is written.
 */
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

export interface WasmIo {
  /** Text for the running execution's logs (counted towards its output limit). */
  log(stream: 'stdout' | 'stderr', text: string): void;
  /** Counts stdout bytes towards the output limit; past it the execution is reported and parked. */
  produced(bytes: number): void;
  env: Record<string, string>;
  /** Guest path → sandbox path of the directories the module may open. */
  preopens: Record<string, string>;
}

const WASI_MODULE = 'wasi_snapshot_preview1';
const STDERR_TAIL_BYTES = 2048;
const EBADF = 8;

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  err.stack = `${name}: ${message}`;
  return err;
}

/** Compiles and checks the module; returns the per-invocation handler. */
export async function loadWasm(file: string, entry: string, io: WasmIo): Promise<(event: unknown) => unknown> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(readFileSync(file));
  } catch (err) {
    throw namedError('InvalidModuleError', `'${entry}' is not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const foreign = WebAssembly.Module.imports(module).filter((i) => i.module !== WASI_MODULE);
  if (foreign.length > 0) throw namedError('InvalidModuleError', `'${entry}' imports ${foreign.map((i) => `${i.module}.${i.name}`).join(', ')}; only ${WASI_MODULE} (WASI preview1) is provided`);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (!exports.has('_start') || !exports.has('memory')) throw namedError('InvalidModuleError', `'${entry}' must be a WASI command module exporting _start and memory`);
  return (event) => runOnce(module, entry, event, io);
}

function runOnce(module: WebAssembly.Module, entry: string, event: unknown, io: WasmIo): unknown {
  const input = Buffer.from(JSON.stringify(event ?? null));
  let inputOffset = 0;
  const stdout: Buffer[] = [];
  let stderrTail = Buffer.alloc(0);
  const decoder = new TextDecoder('utf-8');
  let memory: WebAssembly.Memory | undefined;
  const wasi = new WASI({ version: 'preview1', args: [entry], env: io.env, preopens: io.preopens, returnOnExit: true });
  const base = (wasi.getImportObject() as Record<string, unknown>)[WASI_MODULE] as Record<string, (...args: number[]) => number>;

  /** The iovec list (ptr, len pairs) the guest passed, as views of its memory. */
  const buffers = (iovs: number, count: number): Uint8Array[] => {
    const view = new DataView(memory!.buffer);
    return Array.from({ length: count }, (_, i) => new Uint8Array(memory!.buffer, view.getUint32(iovs + i * 8, true), view.getUint32(iovs + i * 8 + 4, true)));
  };
  const fd_write = (fd: number, iovs: number, count: number, written: number): number => {
    if (fd !== 1 && fd !== 2) return fd === 0 ? EBADF : base.fd_write!(fd, iovs, count, written);
    let total = 0;
    for (const bytes of buffers(iovs, count)) {
      total += bytes.length;
      if (fd === 1) {
        stdout.push(Buffer.from(bytes));
        io.produced(bytes.length);
      } else {
        stderrTail = Buffer.concat([stderrTail, bytes]).subarray(-STDERR_TAIL_BYTES);
        io.log('stderr', decoder.decode(bytes, { stream: true }));
      }
    }
    new DataView(memory!.buffer).setUint32(written, total, true);
    return 0;
  };
  const fd_read = (fd: number, iovs: number, count: number, read: number): number => {
    if (fd !== 0) return base.fd_read!(fd, iovs, count, read);
    let total = 0;
    for (const bytes of buffers(iovs, count)) {
      const n = input.copy(bytes, 0, inputOffset);
      inputOffset += n;
      total += n;
    }
    new DataView(memory!.buffer).setUint32(read, total, true);
    return 0;
  };
  const instance = new WebAssembly.Instance(module, { [WASI_MODULE]: { ...base, fd_write, fd_read } });
  memory = instance.exports.memory as WebAssembly.Memory;
  const tail = (): string => {
    const text = stderrTail.toString('utf8').trim();
    return text ? `; stderr: ${text}` : '';
  };
  let code: number;
  try {
    code = wasi.start(instance) ?? 0;
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw namedError('WasmTrap', `the module trapped: ${err.message}${tail()}`);
    throw err;
  } finally {
    const rest = decoder.decode();
    if (rest) io.log('stderr', rest);
  }
  return interpretOutput(Buffer.concat(stdout).toString('utf8').trim(), code, tail, io);
}

/** stdout → result: all of it as JSON, or its last line (the lines before are logs); `{"error": ...}` fails. */
function interpretOutput(text: string, code: number, tail: () => string, io: WasmIo): unknown {
  let parsed = parseJson(text);
  if (!parsed && text.includes('\n')) {
    const cut = text.lastIndexOf('\n');
    parsed = parseJson(text.slice(cut + 1));
    if (parsed) io.log('stdout', `${text.slice(0, cut)}\n`);
  }
  const value = parsed?.value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'error' in value) {
    const error = (value as { error: unknown }).error;
    if (error !== null && error !== false) throw namedError('Error', typeof error === 'string' ? error : JSON.stringify(error));
  }
  if (code !== 0) throw namedError('ExitError', `the module exited with status ${code}${tail()}`);
  if (parsed) return value;
  if (text === '') throw namedError('InvalidOutputError', `the module printed nothing on stdout; it must print its result as JSON${tail()}`);
  io.log('stdout', `${text}\n`);
  throw namedError('InvalidOutputError', `the module's stdout is not JSON: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
}

function parseJson(text: string): { value: unknown } | null {
  if (text === '') return null;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}
