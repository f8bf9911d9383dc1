// npm pack / npm publish of @skyscale/client. In the workspace the package's `exports` point at src/*.ts
// (run through Node's type stripping); the packed package must point at the built dist/. npm applies no
// manifest fields from `publishConfig` (pnpm and yarn do), so `prepack` builds dist/ and writes
// publishConfig's fields into package.json, and `postpack` puts the workspace manifest back.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from './build.js';

const manifest = fileURLToPath(new URL('../package.json', import.meta.url));
const saved = fileURLToPath(new URL('../.package.json.workspace', import.meta.url));
/** The fields publishConfig overrides in the packed manifest (pnpm's semantics, for the ones used here). */
const PUBLISHED_FIELDS = ['exports', 'main', 'types'];

function restore() {
  if (existsSync(saved)) renameSync(saved, manifest);
}

function apply() {
  restore(); // a pack that stopped half-way left the workspace manifest aside
  build();
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  const { publishConfig = {} } = pkg;
  for (const field of PUBLISHED_FIELDS) {
    if (field in publishConfig) pkg[field] = publishConfig[field];
    delete publishConfig[field];
  }
  if (Object.keys(publishConfig).length === 0) delete pkg.publishConfig;
  delete pkg.scripts; // build and pack scripts of the repository, not shipped
  writeFileSync(saved, text);
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
}

const command = process.argv[2];
if (command === 'apply') apply();
else if (command === 'restore') restore();
else throw new Error(`usage: node scripts/pack-manifest.js apply|restore (got ${command})`);
