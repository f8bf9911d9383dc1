import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ResolvedLimits } from '../limits.ts';
import { nodeHeapMb } from '../limits.ts';
import { SANDBOX_PATHS } from './bwrap-args.ts';
import type { RuntimeFiles } from './runtime-files.ts';

const run = promisify(execFile);

/** The runtimes that have an interpreter of their own; the others run in one of these (STEM_RUNTIME). */
export type InterpreterRuntime = 'node' | 'python' | 'php';

export interface RuntimeBinary {
  runtime: InterpreterRuntime;
  hostPath: string;
  /** Path of the interpreter as seen inside the sandbox. */
  insidePath: string;
  /** Read-only binds the interpreter needs beyond /usr. */
  binds: Array<{ host: string; inside: string }>;
  version: string;
  /** Python only: site-packages dirs, put on sys.path by the bootstrap (which runs with -S, see below). */
  sitePackages: string[];
  /** Interpreter options that stand in for host configuration the sandbox cannot see (PHP: its extensions). */
  args: string[];
}

/** The platform's own Node 24 (process.execPath), bound in read-only when it lives outside /usr. */
export async function resolveNode(nodePath: string): Promise<RuntimeBinary> {
  const hostPath = realpathSync(nodePath);
  const version = hostPath === realpathSync(process.execPath) ? process.version : (await run(hostPath, ['--version'])).stdout.trim();
  if (hostPath.startsWith('/usr/')) return { runtime: 'node', hostPath, insidePath: hostPath, binds: [], version, sitePackages: [], args: [] };
  return {
    runtime: 'node',
    hostPath,
    insidePath: path.join(SANDBOX_PATHS.node, path.basename(hostPath)),
    binds: [{ host: path.dirname(hostPath), inside: SANDBOX_PATHS.node }],
    version,
    sitePackages: [],
    args: [],
  };
}

/**
 * The real interpreter, never a shim: pyenv's `python3` on PATH costs ~130 ms per start. An
 * interpreter outside /usr gets its whole prefix bound at the same path (it finds its stdlib there).
 */
export async function resolvePython(pythonPath: string): Promise<RuntimeBinary | null> {
  let hostPath: string;
  try {
    hostPath = realpathSync(pythonPath);
  } catch {
    return null;
  }
  const script = 'import site, sys; print(sys.version.split()[0]); print(sys.prefix); print(":".join(site.getsitepackages()))';
  const { stdout } = await run(hostPath, ['-I', '-c', script]);
  const [version = '', prefix = '', sites = ''] = stdout.trim().split('\n');
  const binds = hostPath.startsWith('/usr/') ? [] : [{ host: prefix, inside: prefix }];
  return { runtime: 'python', hostPath, insidePath: hostPath, binds, version, sitePackages: sites.split(':').filter(Boolean), args: [] };
}

/** Shared extensions that make no sense in a function: interactive line editing, the opcode cache (off in CLI). */
const PHP_SKIPPED_EXTENSIONS = new Set(['readline', 'zend opcache']);

/**
 * php-cli, run with -n: the sandbox has no /etc/php, so the shared extensions the host's CLI loads
 * are named on the command line instead (`-d extension=...`), which also keeps host ini settings out.
 */
export async function resolvePhp(phpPath: string): Promise<RuntimeBinary | null> {
  let hostPath: string;
  try {
    hostPath = realpathSync(phpPath);
  } catch {
    return null;
  }
  const script = 'echo json_encode([PHP_VERSION, ini_get("extension_dir"), get_loaded_extensions()]);';
  const [configured, builtIn] = await Promise.all([run(hostPath, ['-r', script]), run(hostPath, ['-n', '-r', script])]);
  const [version, extensionDir, loaded] = JSON.parse(configured.stdout) as [string, string, string[]];
  const compiledIn = new Set((JSON.parse(builtIn.stdout) as [string, string, string[]])[2]);
  const args = ['-n', '-d', `extension_dir=${extensionDir}`];
  for (const name of loaded) {
    const file = name.toLowerCase();
    if (compiledIn.has(name) || PHP_SKIPPED_EXTENSIONS.has(file) || !existsSync(path.join(extensionDir, `${file}.so`))) continue;
    args.push('-d', `extension=${file}`);
  }
  // Outside /usr, the interpreter's prefix (…/bin/php → …) and the extension dir are bound at their own paths.
  const prefix = path.dirname(path.dirname(hostPath));
  const dirs = hostPath.startsWith('/usr/') ? [] : [prefix];
  if (!extensionDir.startsWith('/usr/') && !extensionDir.startsWith(`${prefix}/`)) dirs.push(extensionDir);
  return { runtime: 'php', hostPath, insidePath: hostPath, binds: dirs.map((dir) => ({ host: dir, inside: dir })), version, sitePackages: [], args };
}

/** Paths of the interpreter and bootstrap: inside the sandbox, or on the host when unsandboxed. */
export interface CommandPaths {
  interpreter: string;
  runtimeDir: string;
  codeDir: string;
}

export function runtimeCommand(binary: RuntimeBinary, files: RuntimeFiles, limits: ResolvedLimits, paths: CommandPaths): string[] {
  switch (binary.runtime) {
    case 'node':
      return [paths.interpreter, `--max-old-space-size=${nodeHeapMb(limits.memoryMb)}`, path.join(paths.runtimeDir, files.nodeBootstrap), paths.codeDir];
    case 'python':
      // -I: ignore PYTHON* variables and user site-packages; -B: /code is read-only, write no .pyc;
      // -S: `import site` costs ~3 ms per start, so the bootstrap adds the site-packages dirs itself.
      return [paths.interpreter, '-I', '-B', '-S', path.join(paths.runtimeDir, files.pythonBootstrap), paths.codeDir, binary.sitePackages.join(':')];
    case 'php':
      // Like Node's heap cap: PHP's own limit below the cgroup's turns most overuse into a clean error.
      return [paths.interpreter, ...binary.args, '-d', `memory_limit=${nodeHeapMb(limits.memoryMb)}M`, ...PHP_INI, path.join(paths.runtimeDir, files.phpBootstrap), paths.codeDir];
  }
}

/** Errors are reported by the bootstrap (handlers + a shutdown function), never printed by PHP itself. */
const PHP_INI = ['display_errors=0', 'log_errors=0', 'html_errors=0', 'error_reporting=-1', 'output_buffering=0', 'implicit_flush=0', 'max_execution_time=0'].flatMap((d) => ['-d', d]);

const STANDARD_BIN_DIRS = new Set(['/usr/local/bin', '/usr/bin', '/bin']);

/**
 * PATH inside every sandbox: the platform's interpreters first (wherever they live), so a command
 * function's `#!/usr/bin/env python3` or `node` finds them, then the standard directories.
 */
export function sandboxPath(binaries: RuntimeBinary[], inside: boolean): string {
  const dirs = binaries.map((b) => path.dirname(inside ? b.insidePath : b.hostPath)).filter((dir) => !STANDARD_BIN_DIRS.has(dir));
  return [...new Set(dirs), ...STANDARD_BIN_DIRS].join(':');
}

/** The variables every function gets before its own: no host variable ever passes through. */
export function baseEnv(pathVar: string, tmpDir: string): Record<string, string> {
  return { PATH: pathVar, HOME: tmpDir, TMPDIR: tmpDir, LANG: 'C.UTF-8' };
}
