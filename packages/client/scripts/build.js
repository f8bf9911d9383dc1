// Builds dist/ (JavaScript and declarations) with the repository's TypeScript: `npm run build`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');

export function build() {
  rmSync(dist, { recursive: true, force: true });
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc failed (exit ${result.status ?? result.signal})`);
  // tsc rewrites `./x.ts` imports to `./x.js` in the JavaScript but not in the declarations; older
  // TypeScript versions refuse a `.ts` specifier there, so they get the `.js` one too.
  for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'))) {
    const full = path.join(dist, file);
    writeFileSync(full, readFileSync(full, 'utf8').replace(/(['"])(\.{1,2}\/[^'"]*)\.ts\1/g, '$1$2.js$1'));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) build();
