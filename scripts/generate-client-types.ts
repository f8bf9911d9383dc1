// Writes packages/client/src/generated/api.ts from the API's schemas: `npm run generate`.
// packages/client/test/generated.test.ts fails when the checked-in file differs from what this makes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as schemas from '../packages/server/src/api/schemas/index.ts';
import { schemasToTypeScript } from './lib/schema-to-ts.ts';

export const GENERATED_FILE = fileURLToPath(new URL('../packages/client/src/generated/api.ts', import.meta.url));

const HEADER = `// generated — do not edit (npm run generate)
// The control API's request and response types, made by scripts/generate-client-types.ts from
// packages/server/src/api/schemas/. The SDK's own names for them are in ../types.ts.
`;

/** Every exported schema, by its export name (alphabetical); the helpers (functions) are not types. */
export function generateClientTypes(): string {
  const named = Object.entries(schemas).flatMap(([name, value]) => (typeof value === 'object' && value !== null ? [[name, value] as const] : []));
  return `${HEADER}\n${schemasToTypeScript(named)}`;
}

if (import.meta.main) {
  writeFileSync(GENERATED_FILE, generateClientTypes());
  console.log(`wrote ${GENERATED_FILE}`);
}
