import { AppError } from '../core/errors.ts';
import type { CodeSource, FunctionRecord, Runtime } from '../core/types.ts';
import { extractBundle, filesFromJson, validateRelativePath, type FileLimits, type FileMap } from './bundle.ts';
import type { CodeStore } from './code-store.ts';
import { SyntaxChecker } from './syntax-check.ts';
import { isTypeScriptOnly } from './syntax-js.ts';
import { bundleTypeScript } from './typescript.ts';
import { checkWasmModule, defaultInlineFilename, DEFAULT_HANDLERS, entryCandidates, exportOf, handlerForFile } from './validation.ts';

export type JsonFiles = Record<string, string | { content: string; encoding: 'utf8' | 'base64' }>;

/** Where a deploy's code comes from; at most one per request. `extracted`: an archive already unpacked (stored as a bundle). */
export type CodeInput =
  | { kind: 'inline'; code: string; filename?: string }
  | { kind: 'files'; files: JsonFiles }
  | { kind: 'bundle'; data: Buffer; format: 'tar.gz' | 'zip' }
  | { kind: 'extracted'; files: FileMap };

export interface StoredCode {
  codeHash: string;
  codeSource: CodeSource;
  codeSize: number;
}

/**
 * The handler of a deploy that names none. One named file of inline code is the entry (`chat.js` →
 * `chat.handler`, `run.sh` → `run.sh`); an update keeps the current handler while it still points at
 * the code's file, and keeps its export name when the file changes.
 */
export function defaultHandler(runtime: Runtime, code: CodeInput | undefined, current?: FunctionRecord): string {
  const file = code?.kind === 'inline' && code.filename !== undefined ? validateRelativePath(code.filename) : undefined;
  const kept = current?.runtime === runtime ? current.handler : undefined;
  if (kept !== undefined && (file === undefined || entryCandidates(runtime, kept).includes(file))) return kept;
  if (file === undefined) return DEFAULT_HANDLERS[runtime];
  return handlerForFile(runtime, file, kept === undefined ? undefined : exportOf(kept)) ?? DEFAULT_HANDLERS[runtime];
}

/** The file the handler resolves to (the runtime's first match); refuses code without one. */
export function checkEntry(runtime: Runtime, handler: string, files: FileMap | Set<string>): string {
  const candidates = entryCandidates(runtime, handler);
  const entry = candidates.find((c) => files.has(c));
  if (entry === undefined && (runtime === 'command' || runtime === 'wasm')) {
    throw new AppError('VALIDATION_FAILED', `the entry file "${handler}" is not in the code; set handler to the path of the file to run, e.g. "${runtime === 'wasm' ? 'main.wasm' : 'main.py'}"`);
  }
  if (entry === undefined) throw new AppError('VALIDATION_FAILED', `handler "${handler}" needs one of these files in the code: ${candidates.join(', ')}`);
  return entry;
}

/** Turns a deploy's code into checked files (entry present, sources parse, TypeScript bundled) in the code store. */
export class CodeIntake {
  readonly #store: CodeStore;
  readonly #limits: FileLimits;
  readonly #syntax: SyntaxChecker;

  constructor(store: CodeStore, limits: FileLimits, syntax: SyntaxChecker) {
    this.#store = store;
    this.#limits = limits;
    this.#syntax = syntax;
  }

  /** Unpacks an archive with the deploy limits (for callers that look at the files before deploying them). */
  extract(data: Buffer, format: 'tar.gz' | 'zip'): Promise<FileMap> {
    return extractBundle(data, format, this.#limits);
  }

  async store(runtime: Runtime, handler: string, code: CodeInput): Promise<StoredCode> {
    let files = await this.#toFiles(runtime, handler, code);
    if (files.size === 0) throw new AppError('VALIDATION_FAILED', 'the code is empty');
    const entry = checkEntry(runtime, handler, files);
    if (runtime === 'wasm') checkWasmModule(entry, files.get(entry)!);
    await this.#syntax.check(runtime, entry, files);
    if (runtime === 'node' && /\.(c|m)?ts$/.test(entry)) files = await bundleTypeScript(files, entry);
    const { hash, size } = await this.#store.put(files);
    return { codeHash: hash, codeSource: code.kind === 'extracted' ? 'bundle' : code.kind, codeSize: size };
  }

  async #toFiles(runtime: Runtime, handler: string, code: CodeInput): Promise<FileMap> {
    switch (code.kind) {
      case 'inline': {
        let filename = code.filename ?? defaultInlineFilename(runtime, handler);
        // Unnamed node code may be TypeScript: stored as such, it is bundled like any .ts entry.
        if (code.filename === undefined && runtime === 'node' && (await isTypeScriptOnly(code.code))) filename = filename.replace(/\.js$/, '.ts');
        return filesFromJson({ [filename]: code.code }, this.#limits);
      }
      case 'files':
        return filesFromJson(code.files, this.#limits);
      case 'bundle':
        return this.extract(code.data, code.format);
      case 'extracted':
        return code.files;
    }
  }
}
