// Turns named JSON Schemas (the API's TypeBox schemas) into TypeScript declarations: plain types, no imports.

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Named schemas → `export interface` / `export type` declarations, in the order given. */
export function schemasToTypeScript(given: ReadonlyArray<readonly [string, object]>): string {
  const named = given as ReadonlyArray<readonly [string, Schema]>;
  const names = new Map<Schema, string>();
  const byJson = new Map<string, string>();
  const byId = new Map<string, string>();
  for (const [name, schema] of named) {
    if (!names.has(schema)) names.set(schema, name);
    // A property made optional is a copy of the named schema: objects and enums are found again by their JSON.
    if (isDistinctive(schema) && !byJson.has(JSON.stringify(schema))) byJson.set(JSON.stringify(schema), name);
    if (typeof schema.$id === 'string') byId.set(schema.$id, name);
  }

  const nameOf = (schema: Schema): string | undefined => names.get(schema) ?? (isDistinctive(schema) ? byJson.get(JSON.stringify(schema)) : undefined);

  /** A named schema by its name, any other written out. */
  const type = (schema: Schema, indent: string, where: string): string => nameOf(schema) ?? body(schema, indent, where);

  function body(schema: Schema, indent: string, where: string): string {
    if (typeof schema.$ref === 'string') {
      const target = byId.get(schema.$ref);
      if (target === undefined) throw new Error(`${where}: $ref ${schema.$ref} names no exported schema`);
      return target;
    }
    if ('const' in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ');
    if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s: unknown, i) => type(asSchema(s, `${where}.anyOf[${i}]`), indent, `${where}.anyOf[${i}]`)).join(' | ');
    switch (schema.type) {
      case 'string': return 'string';
      case 'integer':
      case 'number': return 'number';
      case 'boolean': return 'boolean';
      case 'null': return 'null';
      case 'array': {
        if (!isSchema(schema.items)) break; // a tuple
        const item = type(schema.items, indent, `${where}[]`);
        return IDENTIFIER.test(item) ? `${item}[]` : `Array<${item}>`;
      }
      case 'object':
      case undefined:
        if (schema.type === 'object' || isSchema(schema.properties)) return object(schema, indent, where);
        if (Object.keys(schema).every((k) => k === 'description')) return 'unknown';
    }
    throw new Error(`${where}: unsupported schema ${JSON.stringify(schema).slice(0, 200)}`);
  }

  function object(schema: Schema, indent: string, where: string): string {
    const values = isSchema(schema.patternProperties) ? Object.values(schema.patternProperties) : isSchema(schema.additionalProperties) ? [schema.additionalProperties] : [];
    const properties = isSchema(schema.properties) ? Object.entries(schema.properties) : [];
    if (values.length > 0) {
      if (properties.length > 0 || values.length > 1) throw new Error(`${where}: an object with both properties and a record part is not supported`);
      return `Record<string, ${type(asSchema(values[0], `${where}[*]`), indent, `${where}[*]`)}>`;
    }
    if (properties.length === 0) throw new Error(`${where}: an object without properties is not supported`);
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const inner = `${indent}  `;
    const lines = properties.map(([key, value]) => {
      const property = asSchema(value, `${where}.${key}`);
      const name = IDENTIFIER.test(key) ? key : literal(key);
      return `${doc(property, inner)}${inner}${name}${required.has(key) ? '' : '?'}: ${type(property, inner, `${where}.${key}`)};\n`;
    });
    return `{\n${lines.join('')}${indent}}`;
  }

  function declaration(name: string, schema: Schema): string {
    const alias = nameOf(schema);
    if (alias !== undefined && alias !== name) return `export type ${name} = ${alias};\n`;
    const declared = body(schema, '', name);
    if (declared.startsWith('{') && !('anyOf' in schema)) return `${doc(schema, '')}export interface ${name} ${declared}\n`;
    // An enum too long to read on one line is written one member a line.
    const members = Array.isArray(schema.enum) && declared.length > 100 ? `\n  | ${schema.enum.map(literal).join('\n  | ')}` : ` ${declared}`;
    return `${doc(schema, '')}export type ${name} =${members};\n`;
  }

  return named.map(([name, schema]) => declaration(name, schema)).join('\n');
}

/** Worth naming wherever it appears: an object with properties or an enum, not a bare `{type: "string"}`. */
const isDistinctive = (schema: Schema): boolean => isSchema(schema.properties) || Array.isArray(schema.enum);

const literal = (value: unknown): string =>
  typeof value === 'string' ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'` : JSON.stringify(value);

function asSchema(value: unknown, where: string): Schema {
  if (!isSchema(value)) throw new Error(`${where}: not a schema`);
  return value;
}

function doc(schema: Schema, indent: string): string {
  return typeof schema.description === 'string' ? `${indent}/** ${schema.description.replaceAll('*/', '*\\/')} */\n` : '';
}
