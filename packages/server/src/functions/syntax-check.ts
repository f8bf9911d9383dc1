import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { Runtime } from '../core/types.ts';
import type { FileMap } from './file-map.ts';
import { isTypeScriptOnly, jsLoaderFor, jsSyntaxProblem, type SyntaxProblem } from './syntax-js.ts';
import { phpSyntaxProblem, pythonSyntaxProblem } from './syntax-interpreters.ts';

type Language = 'js' | 'python' | 'php';

export interface SyntaxCheckOptions {
  /** The host's real interpreter, never a shim on PATH (see sandbox/process/runtime-binaries.ts). */
  pythonPath?: string;
  phpPath?: string;
  /** Most files checked per deploy: the entry, then the others by path. */
  maxFiles?: number;
  /** Deadline of one interpreter run; past it the code goes unchecked. */
  timeoutMs?: number;
}

/** Dependencies someone else wrote, and not necessarily all loaded: not checked. */
const DEPENDENCY_DIRS = new Set(['node_modules', 'vendor', 'site-packages', '.venv', 'venv']);
const MODULE_LANGUAGE: Partial<Record<Runtime, Language>> = { node: 'js', python: 'python', php: 'php' };
/** What a command function's `#!` line must name for the entry to be checked as its extension says. */
const SHEBANG_INTERPRETER: Record<Language, string> = { js: 'node', python: 'python', php: 'php' };
const PHP_CONCURRENCY = 4;

function languageOf(file: string): Language | undefined {
  if (jsLoaderFor(file) !== undefined) return 'js';
  const ext = posix.extname(file);
  return ext === '.py' ? 'python' : ext === '.php' ? 'php' : undefined;
}

const isDependency = (file: string): boolean => file.split('/').some((segment) => DEPENDENCY_DIRS.has(segment));

function where(p: SyntaxProblem): string {
  return p.line === null ? p.file : p.column === null ? `${p.file}:${p.line}` : `${p.file}:${p.line}:${p.column}`;
}

export function syntaxError(problem: SyntaxProblem): AppError {
  return new AppError('SYNTAX_ERROR', `${where(problem)}: ${problem.message}`, { details: { file: problem.file, line: problem.line, column: problem.column } });
}

/**
 * Refuses, at deploy, code whose entry (or another source file of its language) does not parse, instead
 * of failing every invocation: JavaScript and TypeScript with esbuild, Python with `compile()`, PHP with
 * `php -l`. Without the interpreter a language goes unchecked.
 */
export class SyntaxChecker {
  readonly #pythonPath: string;
  readonly #phpPath: string;
  readonly #maxFiles: number;
  readonly #timeoutMs: number;

  constructor(options: SyntaxCheckOptions = {}) {
    this.#pythonPath = options.pythonPath ?? '/usr/bin/python3';
    this.#phpPath = options.phpPath ?? '/usr/bin/php';
    this.#maxFiles = options.maxFiles ?? 100;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Throws SYNTAX_ERROR (details: file, line, column) for the first file that does not parse. */
  async check(runtime: Runtime, entry: string, files: FileMap): Promise<void> {
    const { language, paths } = this.#selection(runtime, entry, files);
    if (language === undefined || paths.length === 0) return;
    const sources = paths.map((path): [string, Buffer] => [path, files.get(path)!]);
    const problem = language === 'js' ? await firstJsProblem(sources) : language === 'python' ? await this.#python(sources) : await this.#php(sources);
    if (problem !== null) throw syntaxError(problem);
  }

  /** The entry first, then (module runtimes only) the other source files of its language, outside dependencies. */
  #selection(runtime: Runtime, entry: string, files: FileMap): { language?: Language; paths: string[] } {
    if (runtime === 'command') {
      const language = languageOf(entry);
      if (language === undefined) return { paths: [] };
      const firstLine = /^#!([^\n]*)/.exec(files.get(entry)!.subarray(0, 256).toString('utf8'))?.[1];
      return firstLine === undefined || firstLine.includes(SHEBANG_INTERPRETER[language]) ? { language, paths: [entry] } : { paths: [] };
    }
    const language = MODULE_LANGUAGE[runtime];
    if (language === undefined) return { paths: [] };
    const others = [...files.keys()].filter((f) => f !== entry && languageOf(f) === language && !isDependency(f)).sort();
    return { language, paths: [entry, ...others].slice(0, this.#maxFiles) };
  }

  async #python(sources: Array<[string, Buffer]>): Promise<SyntaxProblem | null> {
    if (!existsSync(this.#pythonPath)) return null;
    return pythonSyntaxProblem(this.#pythonPath, sources, this.#timeoutMs);
  }

  async #php(sources: Array<[string, Buffer]>): Promise<SyntaxProblem | null> {
    if (!existsSync(this.#phpPath)) return null;
    for (let i = 0; i < sources.length; i += PHP_CONCURRENCY) {
      const batch = sources.slice(i, i + PHP_CONCURRENCY);
      const problems = await Promise.all(batch.map(([file, source]) => phpSyntaxProblem(this.#phpPath, file, source, this.#timeoutMs)));
      const first = problems.find((p) => p !== null);
      if (first !== undefined) return first;
    }
    return null;
  }
}

/** All files parse at once; the first problem in the given order is reported. */
async function firstJsProblem(sources: Array<[string, Buffer]>): Promise<SyntaxProblem | null> {
  const problems = await Promise.all(sources.map(([file, source]) => jsSyntaxProblem(file, source, jsLoaderFor(file)!)));
  const index = problems.findIndex((p) => p !== null);
  if (index === -1) return null;
  const [file, source] = sources[index];
  const problem = problems[index]!;
  if (jsLoaderFor(file) === 'js' && (await isTypeScriptOnly(source))) return { ...problem, message: `${problem.message} (the file is TypeScript: name it .ts)` };
  return problem;
}
