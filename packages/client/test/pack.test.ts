import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = fileURLToPath(new URL('..', import.meta.url));
const repoModules = path.resolve(clientDir, '../../node_modules');
const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
// npm and the scripts it runs use this Node (24), not whichever is first on the PATH.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const consumer = `import { SkyscaleClient, SkyscaleError, type FunctionInfo, type LoadReport, type Runtime } from '@skyscale/client';

const client = new SkyscaleClient({ endpoint: 'http://127.0.0.1:8080', apiKey: 'sk_test' });
export const fn: Promise<FunctionInfo> = client.createFunction({ name: 'hello', runtime: 'node', code: 'export const handler = () => 1' });
export async function firstVersion(): Promise<Runtime> {
  const [version] = await client.listVersions('f1');
  // @ts-expect-error a version has no routes: they belong to the function
  void version.routes;
  return version.runtime;
}
export const ticks = async (): Promise<number | undefined> => ((await client.workerLoad()) satisfies LoadReport).sampler?.ticks;
export const isApiError = (err: unknown): boolean => err instanceof SkyscaleError && err.status >= 400;
`;

test('npm pack makes a package with built JavaScript and declarations that installs, imports and typechecks outside the repository', { timeout: 60_000 }, () => {
  const manifestBefore = readFileSync(path.join(clientDir, 'package.json'), 'utf8');
  const work = mkdtempSync(path.join(tmpdir(), 'skyscale-client-pack-'));
  try {
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], clientDir)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed.files.map((f) => f.path).sort();
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/client.js', 'dist/generated/api.d.ts', 'package.json']) assert.ok(files.includes(file), `the package has ${file}: ${files.join(', ')}`);
    assert.deepEqual(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md'), [], 'nothing but dist/, package.json and README.md');
    assert.equal(readFileSync(path.join(clientDir, 'package.json'), 'utf8'), manifestBefore, 'the workspace manifest is put back after packing');
    assert.equal(existsSync(path.join(clientDir, '.package.json.workspace')), false);

    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(work, packed.filename)], app);
    const installed = JSON.parse(readFileSync(path.join(app, 'node_modules/@skyscale/client/package.json'), 'utf8'));
    assert.deepEqual(installed.exports, { '.': { types: './dist/index.d.ts', default: './dist/index.js' } });

    const script = "import { SkyscaleClient, SkyscaleError } from '@skyscale/client';"
      + " try { await new SkyscaleClient({ endpoint: 'http://127.0.0.1:1' }).health(); } catch (err) { console.log(err instanceof SkyscaleError, err.code); }";
    assert.equal(run(process.execPath, ['--input-type=module', '-e', script], app).trim(), 'true NETWORK_ERROR');

    writeFileSync(path.join(app, 'index.ts'), consumer);
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2024'], types: ['node'], typeRoots: [path.join(repoModules, '@types')] },
      files: ['index.ts'],
    }));
    try {
      run(process.execPath, [tsc, '-p', path.join(app, 'tsconfig.json')], app);
    } catch (err) {
      assert.fail(`the consumer does not typecheck against the packed declarations:\n${(err as { stdout?: string }).stdout ?? err}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
