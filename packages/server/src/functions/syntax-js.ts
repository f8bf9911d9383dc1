import { transform } from 'esbuild';
import { posix } from 'node:path';

/** Where a source file stops parsing: 1-based line and column (in characters), null when unknown. */
export interface SyntaxProblem {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
}

export type JsLoader = 'js' | 'jsx' | 'ts' | 'tsx';

const LOADERS: Record<string, JsLoader> = { '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx' };

export const jsLoaderFor = (file: string): JsLoader | undefined => LOADERS[posix.extname(file)];

/** esbuild counts columns in UTF-8 bytes from 0; people (and Python) count characters from 1. */
function characterColumn(lineText: string, byteColumn: number): number {
  return [...Buffer.from(lineText).subarray(0, byteColumn).toString('utf8')].length + 1;
}

/**
 * Parses one file with esbuild, which takes ES modules and CommonJS alike (as Node does, deciding by the
 * syntax it finds: a top-level `return` or `with` is fine without import/export). Null when it parses.
 */
export async function jsSyntaxProblem(file: string, source: Uint8Array | string, loader: JsLoader): Promise<SyntaxProblem | null> {
  try {
    await transform(source, { loader, sourcefile: file, logLevel: 'silent' });
    return null;
  } catch (err) {
    const first = (err as { errors?: Array<{ text: string; location: { line: number; column: number; lineText: string } | null }> }).errors?.[0];
    if (first === undefined) throw err;
    const at = first.location;
    return { file, line: at?.line ?? null, column: at === null ? null : characterColumn(at.lineText, at.column), message: first.text };
  }
}

/** Code that is not JavaScript but is TypeScript: inline node code like this is stored as a .ts file. */
export async function isTypeScriptOnly(source: Uint8Array | string): Promise<boolean> {
  return (await jsSyntaxProblem('index.js', source, 'js')) !== null && (await jsSyntaxProblem('index.ts', source, 'ts')) === null;
}
