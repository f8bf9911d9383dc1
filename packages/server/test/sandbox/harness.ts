import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InvokeOutcome, ResourceLimits, SandboxDriver, SandboxInstance, SandboxRuntime } from '../../src/sandbox/driver.ts';
import { BROKEN_NODE_MODULE, BROKEN_PYTHON_MODULE, NODE_FIXTURE, PYTHON_FIXTURE } from './fixtures.ts';
import { BROKEN_PHP_MODULE, COMMAND_FIXTURE, PHP_FIXTURE, wasmFixture } from './fixtures-more.ts';

/** The handler that names `exportName` of a runtime's fixture: a module's function, or an entry file. */
export function handlerFor(runtime: SandboxRuntime, exportName: string): string {
  if (runtime === 'command' || runtime === 'wasm') return exportName;
  return `${runtime === 'python' ? 'main' : 'index'}.${exportName}`;
}

/** Code directories, instances and canaries of one suite run; `close()` removes all of it. */
export class Harness {
  readonly driver: SandboxDriver;
  readonly root: string;
  readonly codeDirs: Record<SandboxRuntime, string>;
  readonly brokenDirs: Record<SandboxRuntime, string>;
  /** A stand-in for the platform's DATA_DIR: the sandbox must not be able to see it. */
  readonly canaryDir: string;
  readonly canaryFile: string;
  readonly canarySecret = `canary-${randomUUID()}`;
  readonly #instances = new Set<SandboxInstance>();

  private constructor(driver: SandboxDriver, wasm: Record<string, Buffer>) {
    this.driver = driver;
    this.root = mkdtempSync(path.join(os.tmpdir(), 'skyscale-conformance-'));
    this.codeDirs = {
      node: this.#dir('node', { 'index.js': NODE_FIXTURE }),
      python: this.#dir('python', { 'main.py': PYTHON_FIXTURE }),
      php: this.#dir('php', { 'index.php': PHP_FIXTURE }),
      command: this.#dir('command', COMMAND_FIXTURE),
      wasm: this.#dir('wasm', wasm),
    };
    // An ELF binary stored without its exec bit, as bundles and the code store leave it.
    copyFileSync('/usr/bin/printf', path.join(this.codeDirs.command, 'printf-elf'));
    chmodSync(path.join(this.codeDirs.command, 'printf-elf'), 0o644);
    this.brokenDirs = {
      node: this.#dir('node-broken', { 'index.js': BROKEN_NODE_MODULE }),
      python: this.#dir('python-broken', { 'main.py': BROKEN_PYTHON_MODULE }),
      php: this.#dir('php-broken', { 'index.php': BROKEN_PHP_MODULE }),
      command: this.#dir('command-broken', { handler: '#!/nonexistent/interpreter\n' }),
      wasm: this.#dir('wasm-broken', { 'handler.wasm': Buffer.from('\0asm but not really a module') }),
    };
    this.canaryDir = this.#dir('data', { 'secret.txt': this.canarySecret });
    this.canaryFile = path.join(this.canaryDir, 'secret.txt');
  }

  static async create(driver: SandboxDriver): Promise<Harness> {
    return new Harness(driver, await wasmFixture());
  }

  #dir(name: string, files: Record<string, string | Buffer>): string {
    const dir = path.join(this.root, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
    return dir;
  }

  /** Starts a stem cell and specialises it with one export of the runtime's fixture module. */
  async loaded(runtime: SandboxRuntime, exportName: string, options: { limits?: Partial<ResourceLimits>; env?: Record<string, string>; codeDir?: string } = {}): Promise<SandboxInstance> {
    const instance = await this.stem(runtime, options.limits);
    const outcome = await instance.load({
      codeDir: options.codeDir ?? this.codeDirs[runtime],
      runtime,
      handler: handlerFor(runtime, exportName),
      env: options.env ?? {},
      functionName: 'conformance',
      functionVersion: '7',
      deadlineMs: Date.now() + 10_000,
    });
    assert.equal(outcome.kind, 'loaded', `load failed: ${JSON.stringify(outcome)}`);
    assert.equal(instance.state, 'ready');
    return instance;
  }

  async stem(runtime: SandboxRuntime, limits: Partial<ResourceLimits> = {}): Promise<SandboxInstance> {
    const instance = await this.driver.start({ id: `conf-${runtime}-${randomUUID().slice(0, 8)}`, runtime, limits: { memoryMb: 128, ...limits } });
    this.#instances.add(instance);
    assert.equal(instance.state, 'stem');
    return instance;
  }

  invoke(instance: SandboxInstance, event: unknown = null, timeoutMs = 5000): Promise<InvokeOutcome> {
    return instance.invoke({ executionId: `exec-${randomUUID().slice(0, 8)}`, event, deadlineMs: Date.now() + timeoutMs });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#instances].map((instance) => instance.kill('conformance suite finished')));
    await this.driver.close?.();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function expectOk(outcome: InvokeOutcome): unknown {
  assert.equal(outcome.kind, 'ok', `expected ok, got ${JSON.stringify(outcome).slice(0, 2000)}`);
  return (outcome as Extract<InvokeOutcome, { kind: 'ok' }>).result;
}

/** A process identity that survives pid reuse: pid + start time (field 22 of /proc/<pid>/stat). */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

export async function snapshotProcesses(instance: SandboxInstance): Promise<ProcessIdentity[]> {
  const pids = await instance.processes();
  return pids.map((pid) => ({ pid, startTime: startTimeOf(pid) })).filter((p) => p.startTime !== '');
}

/** Waits for the instance to be gone, then checks that none of its processes is still alive. */
export async function assertNothingSurvives(instance: SandboxInstance, processes: ProcessIdentity[]): Promise<void> {
  await instance.exited;
  assert.equal(instance.state, 'dead');
  assert.deepEqual(await instance.processes(), []);
  const survivors = processes.filter((p) => startTimeOf(p.pid) === p.startTime);
  assert.deepEqual(survivors, [], `processes of ${instance.id} survived`);
}

function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
