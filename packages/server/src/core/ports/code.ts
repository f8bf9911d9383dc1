import type { CodeRef } from '../invocation.ts';

/** Turns a code reference into a local directory holding the files (a worker may fetch them first). */
export interface CodeSource {
  dir(code: CodeRef): Promise<string>;
}
