import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Type } from 'typebox';
import { GENERATED_FILE, generateClientTypes } from '../../../scripts/generate-client-types.ts';
import { schemasToTypeScript } from '../../../scripts/lib/schema-to-ts.ts';

test('src/generated/api.ts is what the API schemas generate', () => {
  const expected = generateClientTypes();
  const actual = readFileSync(GENERATED_FILE, 'utf8');
  if (actual === expected) return;
  const lines = { actual: actual.split('\n'), expected: expected.split('\n') };
  const at = lines.expected.findIndex((line, i) => line !== lines.actual[i]);
  assert.fail(`packages/client/src/generated/api.ts is out of date: run \`npm run generate\` and commit it.\n`
    + `First difference at line ${at + 1}:\n  checked in: ${lines.actual[at] ?? '(end of file)'}\n  generated:  ${lines.expected[at] ?? '(end of file)'}`);
});

test('named schemas are referred to by name, others are written out with their descriptions', () => {
  const Mode = Type.Unsafe<'a' | 'b'>({ type: 'string', enum: ['a', 'b'] });
  const Item = Type.Object({ id: Type.String({ description: 'The id' }), n: Type.Optional(Type.Integer()) });
  const List = Type.Object({ items: Type.Array(Item), first: Type.Optional(Item), mode: Type.Optional(Mode), extra: Type.Union([Type.Object({ x: Type.Boolean() }), Type.Null()]) }, { description: 'A list' });
  const out = schemasToTypeScript([['Item', Item], ['List', List], ['Mode', Mode], ['Same', Item]]);
  assert.equal(out, [
    'export interface Item {',
    '  /** The id */',
    '  id: string;',
    '  n?: number;',
    '}',
    '',
    '/** A list */',
    'export interface List {',
    '  items: Item[];',
    '  first?: Item;',
    '  mode?: Mode;',
    '  extra: {',
    '    x: boolean;',
    '  } | null;',
    '}',
    '',
    "export type Mode = 'a' | 'b';",
    '',
    'export type Same = Item;',
    '',
  ].join('\n'));
});

test('records, refs by $id and quoted keys; a schema it cannot write is an error, not a guess', () => {
  const Err = Type.Object({ code: Type.String() }, { $id: 'Err' });
  const Holder = Type.Object({ 'x-y': Type.Record(Type.String(), Type.Ref('Err')), any: Type.Unknown() });
  assert.equal(schemasToTypeScript([['Err', Err], ['Holder', Holder]]).split('\n').slice(4).join('\n'), [
    'export interface Holder {',
    "  'x-y': Record<string, Err>;",
    '  any: unknown;',
    '}',
    '',
  ].join('\n'));
  assert.throws(() => schemasToTypeScript([['T', Type.Tuple([Type.String()])]]), /T: unsupported schema/);
  assert.throws(() => schemasToTypeScript([['R', Type.Ref('Nowhere')]]), /R: \$ref Nowhere names no exported schema/);
});
