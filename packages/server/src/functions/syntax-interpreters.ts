import { spawn } from 'node:child_process';
import type { SyntaxProblem } from './syntax-js.ts';

/**
 * Python and PHP code is checked by the host's own interpreter, in a subprocess that only parses and
 * compiles (nothing of the code runs), with a deadline. Any trouble with the interpreter itself — missing,
 * crashed, too slow — leaves the code unchecked (null) rather than refusing it.
 */

interface Finished {
  code: number | null;
  stdout: string;
}

function runWithInput(command: string, args: string[], input: Buffer | string, timeoutMs: number): Promise<Finished | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'], env: { LANG: 'C.UTF-8' }, timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', () => resolve(null));
    child.once('close', (code, signal) => resolve(signal === null ? { code, stdout } : null));
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(input);
  });
}

/** Address space for the compiler: pathological nesting fails in Python instead of eating the host's memory. */
const PYTHON_MEMORY_BYTES = 1024 * 1024 * 1024;

// compile() also reports what only the compiler sees ('return' outside function, nonlocal misuse), unlike
// ast.parse. The source is decoded as an import would decode it (BOM, coding cookie), then compiled as text
// so that SyntaxError.offset counts characters.
const PYTHON_CHECK = `
import base64, json, resource, sys
from importlib.util import decode_source
try:
    resource.setrlimit(resource.RLIMIT_AS, (${PYTHON_MEMORY_BYTES}, ${PYTHON_MEMORY_BYTES}))
except (ValueError, OSError):
    pass
for name, data in json.load(sys.stdin):
    try:
        compile(decode_source(base64.b64decode(data)), name, 'exec', dont_inherit=True)
    except SyntaxError as e:
        print(json.dumps({'file': name, 'line': e.lineno, 'column': e.offset, 'message': type(e).__name__ + ': ' + str(e.msg)}))
        break
    except ValueError as e:
        print(json.dumps({'file': name, 'line': None, 'column': None, 'message': type(e).__name__ + ': ' + str(e)}))
        break
`;

/** The first of `files` (in order) that Python cannot compile. */
export async function pythonSyntaxProblem(pythonPath: string, files: Array<[string, Buffer]>, timeoutMs: number): Promise<SyntaxProblem | null> {
  const input = JSON.stringify(files.map(([name, content]) => [name, content.toString('base64')]));
  // -I: no PYTHON* variables, no user site; -S: no site import; -B: no .pyc files.
  const done = await runWithInput(pythonPath, ['-I', '-S', '-B', '-c', PYTHON_CHECK], input, timeoutMs);
  if (done === null || done.code !== 0 || done.stdout.trim() === '') return null;
  try {
    return JSON.parse(done.stdout) as SyntaxProblem;
  } catch {
    return null;
  }
}

const PHP_ERROR = /(?:PHP )?((?:Parse|Fatal) error):\s+(.*?) in Standard input code on line (\d+)/;

/** `php -l` of one file (it parses and compiles, running nothing); PHP names no column. */
export async function phpSyntaxProblem(phpPath: string, file: string, source: Buffer, timeoutMs: number): Promise<SyntaxProblem | null> {
  const done = await runWithInput(phpPath, ['-n', '-d', 'display_errors=stdout', '-l'], source, timeoutMs);
  if (done === null || done.code === 0) return null;
  const found = PHP_ERROR.exec(done.stdout);
  return found === null ? null : { file, line: Number(found[3]), column: null, message: `${found[1]}: ${found[2]}` };
}
