import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_UID } from './bwrap-args.ts';
import { seccompProgram } from './seccomp.ts';

const RUNTIMES_SRC = fileURLToPath(new URL('../../runtimes/', import.meta.url));
/** Sandbox-side sources → the names they get in the runtime dir (TypeScript becomes .cjs or, stripped, .mjs). */
const SOURCES: Record<string, string> = {
  'node-bootstrap.sandbox.ts': 'node-bootstrap.cjs',
  'wasm-runner.sandbox.ts': 'wasm-runner.mjs',
  'bootstrap.py': 'bootstrap.py',
  'command_runner.py': 'command_runner.py',
  'bootstrap.php': 'bootstrap.php',
  'host-api-forwarder.php': 'host-api-forwarder.php',
  // Stream sessions: imported by the bootstraps on a runtime's first session only.
  'node-stream.sandbox.ts': 'node-stream.mjs',
  'stream_session.py': 'stream_session.py',
};

export interface RuntimeFiles {
  /** Host directory, bound read-only at /opt/skyscale/runtime inside. */
  dir: string;
  nodeBootstrap: string;
  pythonBootstrap: string;
  phpBootstrap: string;
  /** Compiled seccomp filter for bwrap --seccomp; null where there is none for this architecture. */
  seccompFilter: string | null;
}

/**
 * Writes the in-sandbox files once per content version: the Node bootstrap compiled to CommonJS and
 * the other TypeScript files with their types stripped (Node's own stripping costs ~45 ms per process
 * start, as it loads a wasm compiler; an ES module entry point costs ~4 ms more than a CommonJS one,
 * and the function's own ES modules still load through import()), the Python and PHP bootstraps, and
 * stub /etc files that give the sandbox user a name without exposing the host's.
 */
export function prepareRuntimeFiles(workDir: string): RuntimeFiles {
  const sources = Object.keys(SOURCES).map((name) => [name, readFileSync(path.join(RUNTIMES_SRC, name), 'utf8')] as const);
  const seccomp = seccompProgram();
  const digest = createHash('sha256').update(process.version).update('cjs');
  for (const [, source] of sources) digest.update(source);
  const hash = digest.update(seccomp ?? '').digest('hex').slice(0, 16);
  const dir = path.join(workDir, `runtime-${hash}`);
  const files = { dir, nodeBootstrap: 'node-bootstrap.cjs', pythonBootstrap: 'bootstrap.py', phpBootstrap: 'bootstrap.php', seccompFilter: seccomp ? path.join(dir, 'seccomp.bpf') : null };
  removeOldVersions(workDir, dir);
  if (existsSync(path.join(dir, 'ready'))) return files;

  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'etc'), { recursive: true, mode: 0o755 });
  for (const [name, source] of sources) {
    const target = SOURCES[name]!;
    writeFileSync(path.join(staging, target), target.endsWith('.cjs') ? toCommonJs(source, name) : name.endsWith('.ts') ? stripTypes(source) : source, { mode: 0o644 });
  }
  const id = SANDBOX_UID;
  writeFileSync(path.join(staging, 'etc/passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${id}:${id}:sandbox:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`, { mode: 0o644 });
  writeFileSync(path.join(staging, 'etc/group'), `root:x:0:\nsandbox:x:${id}:\nnogroup:x:65534:\n`, { mode: 0o644 });
  writeFileSync(path.join(staging, 'etc/hosts'), '127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n', { mode: 0o644 });
  if (seccomp) writeFileSync(path.join(staging, 'seccomp.bpf'), seccomp, { mode: 0o644 });
  writeFileSync(path.join(staging, 'ready'), '');
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, dir);
  } catch {
    // Another platform process sharing this workDir won the race with identical content.
    rmSync(staging, { recursive: true, force: true });
  }
  return files;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Runtime dirs of earlier platform versions; only old ones, as another process may share the workDir. */
function removeOldVersions(workDir: string, current: string): void {
  for (const entry of readdirSync(workDir)) {
    const dir = path.join(workDir, entry);
    if (!entry.startsWith('runtime-') || dir === current) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > DAY_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

const COMPILE_PYC = `
import os, py_compile, sys
source, runtime_dir, shown_as = sys.argv[1:4]
name = "bootstrap.%s.pyc" % sys.implementation.cache_tag
final = os.path.join(runtime_dir, name)
if not os.path.exists(final):
    temp = "%s.%d.tmp" % (final, os.getpid())
    py_compile.compile(source, cfile=temp, dfile=shown_as, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    os.chmod(temp, 0o644)
    os.replace(temp, final)
print(name)
`;

/**
 * Compiles the Python bootstrap to bytecode with the interpreter that will run it (the file name
 * carries its cache tag, e.g. cpython-311). Python never caches a main script's bytecode, so running
 * the source recompiles it at every start (~3 ms). Falls back to the source if compiling fails.
 */
export async function withCompiledPythonBootstrap(files: RuntimeFiles, python: string, insideRuntimeDir: string): Promise<RuntimeFiles> {
  try {
    const source = path.join(files.dir, files.pythonBootstrap);
    const { stdout } = await promisify(execFile)(python, ['-I', '-S', '-c', COMPILE_PYC, source, files.dir, `${insideRuntimeDir}/${files.pythonBootstrap}`]);
    const name = stdout.trim();
    return /^bootstrap\.[\w.-]+\.pyc$/.test(name) ? { ...files, pythonBootstrap: name } : files;
  } catch {
    return files;
  }
}

function toCommonJs(source: string, sourcefile: string): string {
  const out = transformSync(source, { loader: 'ts', format: 'cjs', platform: 'node', target: 'node24', banner: '"use strict";', sourcefile });
  // A warning means a construct CommonJS cannot express (import.meta): the bootstrap would misbehave.
  if (out.warnings.length > 0) throw new Error(`node bootstrap does not compile to CommonJS cleanly: ${out.warnings.map((w) => w.text).join('; ')}`);
  return out.code;
}

type Stripper = (code: string, options?: { mode?: 'strip' | 'transform' }) => string;

function stripTypes(source: string): string {
  const strip = (nodeModule as unknown as { stripTypeScriptTypes?: Stripper }).stripTypeScriptTypes;
  if (!strip) throw new Error('node:module stripTypeScriptTypes is missing: Node 24 is required');
  // The API prints an ExperimentalWarning on first use; this is a build step, not something to warn about.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return strip(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}
