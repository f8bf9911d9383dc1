/**
 * The deploy files (deploy/) checked against the platform, since nothing here can run them (no Docker,
 * no Kubernetes): docs/deploy.md, "What the test checks". The Kubernetes RBAC is in kubernetes.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { DEPLOYABLE_VARIABLES } from '../../src/config/variables.ts';
import { DEPLOY, REPO, execForm, interpolate, interpolatedNames, keyValues, must, parseYaml, platformHealthPaths, readDockerfile, readEnvFile, readYaml, serveRoles, type Yaml } from './deploy-files.ts';
import { containers, kubernetes, kubernetesEnv } from './kubernetes-files.ts';

const compose = readYaml(path.join(DEPLOY, 'compose.yaml'))[0];
const envExample = readEnvFile(path.join(DEPLOY, '.env.example'));
const dockerfile = readDockerfile(path.join(DEPLOY, 'Dockerfile'));
const instructions = (name: string) => dockerfile.filter((i) => i.instruction === name);
const imageEnv = Object.assign({}, ...instructions('ENV').map((i) => keyValues(i.args))) as Record<string, string>;
/** The platform's services in compose.yaml: those running the image the Dockerfile builds. */
const platformServices = Object.entries(compose.services as Record<string, Yaml>).filter(([, s]) => s.build?.dockerfile === 'deploy/Dockerfile');
/** What a deploy/.env copied from .env.example, its secrets filled in, gives compose. */
const composeEnv = { ...envExample, JWT_SECRET: 'j'.repeat(64), SECRETS_KEY: 'ab'.repeat(32), POSTGRES_PASSWORD: 'pw' };
/** Read by compose itself for other services (and DATABASE_URL), not by the platform. */
const COMPOSE_ONLY = ['POSTGRES_PASSWORD'];

function notDeployable(names: Iterable<string>): string[] {
  return [...names].filter((name) => !DEPLOYABLE_VARIABLES.includes(name));
}

test('every YAML file in deploy/ parses, without duplicate keys', () => {
  const files = readdirSync(DEPLOY, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 9, files.join(', '));
  for (const file of files) assert.ok(readYaml(path.join(DEPLOY, file)).length > 0, file);
  for (const broken of ['a: 1\na: 2\n', 'a: [1, 2\n', 'a:\n  b: 1\n c: 2\n', '- a\n- b\n', 'a: 1\n---\n']) {
    assert.throws(() => parseYaml(broken, 'broken.yaml'), /broken\.yaml/, JSON.stringify(broken));
  }
});

test('Compose runs the services of docs/deploy.md, with the health checks it names', () => {
  const doc = readFileSync(path.join(REPO, 'docs/deploy.md'), 'utf8');
  const start = doc.indexOf('| service | what it runs | health check |');
  const table = doc.slice(start, doc.indexOf('\n\n', start));
  const rows = [...table.matchAll(/^\| `([a-z-]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map(([, name, check]) => ({ name, check }));
  assert.deepEqual(rows.map((r) => r.name).sort(), Object.keys(compose.services).sort());
  for (const { name, check } of rows) {
    const healthcheck = compose.services[name].healthcheck;
    if (check.startsWith('none')) {
      assert.equal(healthcheck, undefined, `${name} has a health check the doc does not name`);
      continue;
    }
    assert.equal(healthcheck?.test?.[0], 'CMD', `${name}: an exec-form health check`);
    const command = healthcheck.test.slice(1).join(' ');
    for (const [, named] of check.matchAll(/`([^`]+)`/g)) assert.ok(command.includes(named), `${name}: "${command}" does not do ${named}`);
    for (const [, port] of check.matchAll(/\b(\d{4})\b/g)) assert.ok(command.includes(`:${port}/`), `${name}: "${command}" is not on port ${port}`);
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\S*)/.exec(command);
    if (platformServices.some(([platform]) => platform === name)) assert.ok(url && platformHealthPaths().includes(url[2]), `${name}: ${url?.[2]} is not a health path of the platform`);
  }
  assert.deepEqual(platformServices.map(([name]) => name).sort(), ['control', 'gateway', 'worker']);
});

test('every variable the files set for a platform container is one the platform reads', () => {
  for (const [name, service] of platformServices) {
    assert.equal(service.env_file, '.env', `${name} reads deploy/.env, the copy of .env.example`);
    assert.deepEqual(notDeployable(Object.keys(service.environment ?? {})), [], `compose ${name}: environment`);
  }
  const interpolated = interpolatedNames(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8'));
  for (const name of COMPOSE_ONLY) assert.ok(interpolated.includes(name), `${name} is exempt only while compose.yaml uses it`);
  assert.deepEqual(notDeployable(Object.keys(envExample)).filter((name) => !COMPOSE_ONLY.includes(name)), [], '.env.example');
  assert.deepEqual(interpolated.filter((name) => !(name in envExample)), [], 'compose.yaml interpolates what .env.example does not set');
  assert.deepEqual(notDeployable(Object.keys(imageEnv)), [], 'Dockerfile ENV');
  for (const { where, container } of containers()) {
    assert.deepEqual(notDeployable(Object.keys(kubernetesEnv(container, {}).env)), [], where);
  }
  const configMap = must(kubernetes().find((o) => o.kind === 'ConfigMap'), 'the ConfigMap');
  const secret = must(kubernetes({ withExample: true }).find((o) => o.kind === 'Secret'), 'the Secret example');
  assert.deepEqual(notDeployable([...Object.keys(configMap.data), ...Object.keys(secret.stringData)]), [], 'ConfigMap and Secret');
});

test('the values the files set pass the platform\'s validation; the Secret\'s placeholders do not', () => {
  const platformOnly = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([name]) => !COMPOSE_ONLY.includes(name)));
  for (const [name, service] of platformServices) {
    const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), composeEnv)]));
    const config = loadConfig({ ...imageEnv, ...platformOnly(composeEnv), ...environment }, { roles: [...serveRoles(service.command)] });
    assert.equal(config.host, '0.0.0.0', `${name} serves other machines`);
  }
  assert.throws(() => interpolate(String(platformServices[0][1].environment.JWT_SECRET), { ...composeEnv, JWT_SECRET: '' }), /compose would stop: JWT_SECRET/);
  const secret = must(kubernetes({ withExample: true }).find((o) => o.kind === 'Secret'), 'the Secret example').stringData as Record<string, string>;
  const filled = { JWT_SECRET: 'j'.repeat(64), SECRETS_KEY: 'ab'.repeat(32) };
  for (const { where, container } of containers()) {
    const { env } = kubernetesEnv(container, { ...secret, ...filled });
    assert.doesNotThrow(() => loadConfig({ ...imageEnv, ...env }, { roles: [...serveRoles(container.args)] }), where);
  }
  assert.throws(() => loadConfig({ JWT_SECRET: secret.JWT_SECRET }), /JWT_SECRET/);
  assert.throws(() => loadConfig({ SECRETS_KEY: secret.SECRETS_KEY }), /SECRETS_KEY/);
});

test('every command is `skyscale serve`, each service running its own role', () => {
  assert.deepEqual(execForm(instructions('CMD').at(-1)!.args), ['node', 'packages/server/bin/skyscale.js', 'serve']);
  assert.deepEqual(serveRoles(execForm(instructions('CMD').at(-1)!.args)), [], 'the image alone is the embedded mode');
  for (const [name, service] of platformServices) assert.deepEqual(serveRoles(service.command), [name], `compose ${name}`);
  for (const { where, container, component } of containers()) {
    assert.equal(container.command, undefined, `${where}: args, not command, so the image's entry point (tini) stays`);
    assert.deepEqual(serveRoles(container.args), [component], where);
  }
  assert.throws(() => serveRoles(['node', 'packages/server/bin/skyscale.js', 'serve', '--role', 'api']), /--role must name roles/);
  assert.throws(() => serveRoles(['node', 'packages/server/bin/skyscale.js', 'serve', '--roles', 'worker']), /no option --roles/);
  assert.throws(() => serveRoles(['node', 'packages/server/bin/skyscale.js', 'start']), /not `skyscale serve`/);
});

test('the image name agrees between the Dockerfile, the package, Compose, Kubernetes and the docs', () => {
  const labels = Object.assign({}, ...instructions('LABEL').map((i) => keyValues(i.args))) as Record<string, string>;
  const image = `${labels['org.opencontainers.image.title']}:${labels['org.opencontainers.image.version']}`;
  const { version } = JSON.parse(readFileSync(path.join(REPO, 'packages/server/package.json'), 'utf8'));
  assert.equal(image, `skyscale:${version}`);
  for (const [name, service] of platformServices) assert.equal(service.image, image, `compose ${name}`);
  for (const { where, container } of containers()) assert.equal(container.image, image, where);
  for (const file of ['docs/deploy.md', 'deploy/Dockerfile']) assert.ok(readFileSync(path.join(REPO, file), 'utf8').includes(`docker build -f deploy/Dockerfile -t ${image} .`), file);
});

test('the Dockerfile: tini then the entry script as entry point, the runtimes installed, only what it copies in the context', () => {
  assert.deepEqual(execForm(instructions('ENTRYPOINT').at(-1)!.args), ['tini', '--', 'skyscale-entrypoint']);
  const installs = instructions('RUN').map((i) => i.args).join(' ');
  for (const name of ['bubblewrap', 'python3', 'php-cli', 'tini', 'curl']) assert.match(installs, new RegExp(`apt-get install [^&]*\\b${name}\\b`), name);
  const shell = spawnSync('sh', ['-n', path.join(DEPLOY, 'entrypoint.sh')], { encoding: 'utf8' });
  assert.equal(shell.status, 0, shell.stderr);
  const included = readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const sources = instructions('COPY').filter((i) => !i.args.startsWith('--from')).flatMap((i) => i.args.split(' ').slice(0, -1));
  assert.deepEqual(sources.filter((s) => !included.includes(s)), [], 'COPY sources the .dockerignore leaves out of the context');
});

test('Compose: secrets guarded, workers privileged and at MIN_WORKERS, control and gateway neither root nor privileged', () => {
  for (const [name, service] of platformServices) {
    for (const secret of ['JWT_SECRET', 'SECRETS_KEY']) assert.match(String(service.environment[secret]), new RegExp(`^\\$\\{${secret}:\\?`), `${name}: ${secret} stops compose when empty`);
  }
  const { worker, control, gateway } = compose.services;
  assert.equal(worker.privileged, true);
  assert.equal(worker.deploy.replicas, Number(envExample.MIN_WORKERS));
  assert.equal(worker.ports, undefined);
  for (const [name, service] of [['control', control], ['gateway', gateway]] as const) {
    assert.equal(service.privileged, undefined, name);
    assert.equal(service.user, '10001:10001', name);
  }
  assert.deepEqual(control.ports, ['8080:8080']);
  assert.deepEqual(gateway.ports, ['8081:8081']);
  assert.equal(envExample.AUTOSCALER_ACTUATOR, 'none', 'nothing in compose may scale its services');
  const ignored = readFileSync(path.join(REPO, '.gitignore'), 'utf8').split('\n');
  assert.ok(ignored.includes('deploy/.env') && ignored.includes('deploy/kubernetes/secret.yaml'), 'the filled-in secrets stay out of git');
});
