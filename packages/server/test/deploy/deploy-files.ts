/** Readers of the deploy files (deploy/) for their test: YAML, env files, the Dockerfile, the serve command line. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/main.ts';
import { parseRoles } from '../../src/config/distributed.ts';
import type { Role } from '../../src/config/options.ts';

export const REPO = path.resolve(import.meta.dirname, '../../../..');
export const DEPLOY = path.join(REPO, 'deploy');

export type Yaml = Record<string, any>;

/** `value`, or a failure naming what is missing. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

/** Every document of a YAML text; a syntax error, a duplicate key or a document that is no mapping throws, naming `source`. */
export function parseYaml(text: string, source: string): Yaml[] {
  // merge: compose.yaml shares its platform settings with YAML 1.1 merge keys (<<), as compose reads them.
  const documents = parseAllDocuments(text, { merge: true, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((document, index) => {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) throw new Error(`${source}: ${problems.map((p) => p.message).join('; ')}`);
    const value = document.toJS();
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: document ${index + 1} is not a mapping`);
    return value as Yaml;
  });
}

export function readYaml(file: string): Yaml[] {
  return parseYaml(readFileSync(file, 'utf8'), path.relative(REPO, file));
}

/** KEY=VALUE lines as compose's env_file reads them (comments and blank lines aside); anything else throws. */
export function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`${path.relative(REPO, file)}:${index + 1}: not KEY=VALUE: ${line}`);
    if (match[1] in env) throw new Error(`${path.relative(REPO, file)}:${index + 1}: ${match[1]} set twice`);
    env[match[1]] = match[2];
  }
  return env;
}

/** Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?message}` (and the forms without the colon). */
const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

export function interpolatedNames(text: string): string[] {
  return [...new Set([...text.matchAll(INTERPOLATION)].map((m) => m[1]))];
}

export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(INTERPOLATION, (_all, name: string, operator: string | undefined, rest: string) => {
    const set = env[name] !== undefined && (env[name] !== '' || operator?.startsWith(':') !== true);
    if (set) return env[name];
    if (operator?.endsWith('?')) throw new Error(`compose would stop: ${name} ${rest}`);
    return operator?.endsWith('-') ? rest : '';
  });
}

export interface DockerInstruction {
  readonly instruction: string;
  readonly args: string;
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
export function readDockerfile(file: string): DockerInstruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (line.trimStart().startsWith('#')) continue;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (!line.endsWith('\\')) (logical.push(pending.trim()), (pending = ''));
  }
  return logical.map((text) => {
    const [instruction, ...rest] = text.split(/\s+/);
    return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
  });
}

/** `KEY=VALUE KEY2="VALUE 2"` of ENV or LABEL. */
export function keyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const [, key, quoted, bare] of args.matchAll(/([A-Za-z_][\w.-]*)=(?:"([^"]*)"|(\S*))/g)) pairs[key] = quoted ?? bare;
  return pairs;
}

/** The exec form (`["a", "b"]`) of CMD or ENTRYPOINT; the shell form would not get signals itself. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/**
 * The roles of a `node packages/server/bin/skyscale.js serve [--role …]` command line, checked against
 * the real CLI: the script exists, every option is one `serve` declares, the roles pass its parser.
 */
export function serveRoles(argv: readonly string[]): readonly Role[] {
  const [node, script, command, ...rest] = argv;
  if (node !== 'node') throw new Error(`${argv.join(' ')}: runs ${node}, not node`);
  if (script !== 'packages/server/bin/skyscale.js' || !existsSync(path.join(REPO, script))) throw new Error(`${argv.join(' ')}: the CLI is packages/server/bin/skyscale.js (from the image's WORKDIR)`);
  const serve = buildProgram().commands.find((c) => c.name() === command);
  if (command !== 'serve' || serve === undefined) throw new Error(`${argv.join(' ')}: not \`skyscale serve\``);
  const options = new Map(serve.options.map((o) => [o.long, o]));
  const roles: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].split(/=(.*)/s, 2);
    const option = options.get(flag);
    if (option === undefined) throw new Error(`${argv.join(' ')}: serve has no option ${flag}`);
    const value = option.required ? (inline ?? rest[++i]) : undefined;
    if (option.required && value === undefined) throw new Error(`${argv.join(' ')}: ${flag} needs a value`);
    if (flag === '--role') roles.push(value as string);
  }
  return roles.length === 0 ? [] : parseRoles(roles, '--role');
}

/** The health paths the platform serves, found in its source: the API's and the gateway's. */
export function platformHealthPaths(): string[] {
  const api = readFileSync(path.join(REPO, 'packages/server/src/api/routes/health.ts'), 'utf8');
  const gateway = readFileSync(path.join(REPO, 'packages/server/src/gateway/server.ts'), 'utf8');
  return [...['/healthz', '/readyz'].filter((p) => api.includes(`'${p}'`)), ...['/_skyscale/healthz'].filter((p) => gateway.includes(`'${p}'`))];
}
