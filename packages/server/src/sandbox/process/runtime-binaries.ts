import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SandboxRuntime } from '../driver.ts';
import type { ResolvedLimits } from '../limits.ts';
import { nodeHeapMb } from '../limits.ts';
import { SANDBOX_PATHS } from './bwrap-args.ts';
import type { RuntimeFiles } from './runtime-files.ts';

const run = promisify(execFile);

export interface RuntimeBinary {
  runtime: SandboxRuntime;
  hostPath: string;
  /** Path of the interpreter as seen inside the sandbox. */
  insidePath: string;
  /** Read-only binds the interpreter needs beyond /usr. */
  binds: Array<{ host: string; inside: string }>;
  version: string;
  /** Python only: site-packages dirs, put on sys.path by the bootstrap (which runs with -S, see below). */
  sitePackages: string[];
}

/** The platform's own Node 24 (process.execPath), bound in read-only when it lives outside /usr. */
export async function resolveNode(nodePath: string): Promise<RuntimeBinary> {
  const hostPath = realpathSync(nodePath);
  const version = hostPath === realpathSync(process.execPath) ? process.version : (await run(hostPath, ['--version'])).stdout.trim();
  if (hostPath.startsWith('/usr/')) return { runtime: 'node', hostPath, insidePath: hostPath, binds: [], version, sitePackages: [] };
  return {
    runtime: 'node',
    hostPath,
    insidePath: path.join(SANDBOX_PATHS.node, path.basename(hostPath)),
    binds: [{ host: path.dirname(hostPath), inside: SANDBOX_PATHS.node }],
    version,
    sitePackages: [],
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
  return { runtime: 'python', hostPath, insidePath: hostPath, binds, version, sitePackages: sites.split(':').filter(Boolean) };
}

/** Paths of the interpreter and bootstrap: inside the sandbox, or on the host when unsandboxed. */
export interface CommandPaths {
  interpreter: string;
  runtimeDir: string;
  codeDir: string;
}

export function runtimeCommand(binary: RuntimeBinary, files: RuntimeFiles, limits: ResolvedLimits, paths: CommandPaths): string[] {
  if (binary.runtime === 'node') {
    return [paths.interpreter, `--max-old-space-size=${nodeHeapMb(limits.memoryMb)}`, path.join(paths.runtimeDir, files.nodeBootstrap), paths.codeDir];
  }
  // -I: ignore PYTHON* variables and user site-packages; -B: /code is read-only, write no .pyc;
  // -S: `import site` costs ~3 ms per start, so the bootstrap adds the site-packages dirs itself.
  return [paths.interpreter, '-I', '-B', '-S', path.join(paths.runtimeDir, files.pythonBootstrap), paths.codeDir, binary.sitePackages.join(':')];
}

/** The variables every function gets before its own: no host variable ever passes through. */
export function baseEnv(runtime: SandboxRuntime, interpreter: string, tmpDir: string): Record<string, string> {
  const bin = runtime === 'node' ? `${path.dirname(interpreter)}:` : '';
  return { PATH: `${bin}/usr/local/bin:/usr/bin:/bin`, HOME: tmpDir, TMPDIR: tmpDir, LANG: 'C.UTF-8' };
}
