/**
 * The kubernetes actuator against a real HTTPS server (a self-signed certificate made with openssl)
 * that checks each request as the API server would see it and answers as the API server does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubernetesActuator, inClusterBaseUrl } from '../../src/autoscaler/actuators/kubernetes.ts';
import { captureLog } from './log-capture.ts';

interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }

const SCALE_PATH = '/apis/apps/v1/namespaces/skyscale/deployments/skyscale-worker/scale';

/** A Scale as the API returns it (autoscaling/v1). */
const scale = (replicas: number) => ({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'skyscale-worker', namespace: 'skyscale' }, spec: { replicas }, status: { replicas, selector: 'app.kubernetes.io/component=worker' } });

async function fakeApiServer(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-k8s-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=kubernetes', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  writeFileSync(path.join(dir, 'token'), 'sa-token-1\n');
  const seen: Seen[] = [];
  let replicas = 2;
  let answer: ((s: Seen, res: import('node:http').ServerResponse) => boolean) | null = null;
  const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'ca.crt')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      if (answer?.(s, res)) return;
      const status = (code: number, reason: string, message: string) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
      if (s.headers.authorization !== `Bearer ${readFileSync(path.join(dir, 'token'), 'utf8').trim()}`) return status(401, 'Unauthorized', 'Unauthorized');
      if (s.url !== SCALE_PATH) return status(404, 'NotFound', `the server could not find the requested resource`);
      if (s.method === 'GET') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(scale(replicas)));
      if (s.method !== 'PATCH') return status(405, 'MethodNotAllowed', 'method not allowed');
      if (s.headers['content-type'] !== 'application/merge-patch+json') return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format`);
      const patch = JSON.parse(s.body) as { spec: { replicas: number } };
      replicas = patch.spec.replicas;
      return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(scale(replicas)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); rmSync(dir, { recursive: true, force: true }); });
  const { port } = server.address() as AddressInfo;
  return {
    dir, seen, port,
    get replicas() { return replicas; },
    answerWith(fn: typeof answer) { answer = fn; },
    actuator: (extra: Partial<ConstructorParameters<typeof KubernetesActuator>[0]> = {}) => new KubernetesActuator({
      log: captureLog().log, namespace: 'skyscale', deployment: 'skyscale-worker',
      baseUrl: `https://127.0.0.1:${port}`, tokenPath: path.join(dir, 'token'), caPath: path.join(dir, 'ca.crt'), ...extra,
    }),
  };
}

test('current() GETs the scale; scaleTo() PATCHes spec.replicas as a merge patch, with the bearer token, trusting the CA', async (t) => {
  const api = await fakeApiServer(t);
  const actuator = api.actuator();
  assert.equal(await actuator.current(), 2);
  await actuator.scaleTo(7, 'scale_up');
  assert.equal(api.replicas, 7);
  assert.equal(await actuator.current(), 7);

  const [get, patch] = api.seen;
  assert.deepEqual([get.method, get.url, get.headers.authorization, get.headers.accept, get.body], ['GET', SCALE_PATH, 'Bearer sa-token-1', 'application/json', '']);
  assert.deepEqual([patch.method, patch.url, patch.headers.authorization, patch.headers['content-type']], ['PATCH', SCALE_PATH, 'Bearer sa-token-1', 'application/merge-patch+json']);
  assert.deepEqual(JSON.parse(patch.body), { spec: { replicas: 7 } }, 'exactly the replicas, nothing else');
  assert.equal(patch.headers['content-length'], String(Buffer.byteLength(patch.body)));

  // a rotated token is read at the next request
  writeFileSync(path.join(api.dir, 'token'), 'sa-token-2');
  await actuator.scaleTo(3, 'scale_down');
  assert.equal(api.seen.at(-1)!.headers.authorization, 'Bearer sa-token-2');
  assert.equal(api.replicas, 3);
});

test('the API\'s refusals, a wrong CA and a silent server are errors that say why', async (t) => {
  const api = await fakeApiServer(t);
  api.answerWith((s, res) => {
    if (s.method !== 'PATCH') return false;
    res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'deployments.apps "skyscale-worker" is forbidden: User "system:serviceaccount:skyscale:skyscale-autoscaler" cannot patch resource "deployments/scale"' }));
    return true;
  });
  await assert.rejects(api.actuator().scaleTo(4, 'scale_up'), /PATCH \/apis\/apps\/v1\/namespaces\/skyscale\/deployments\/skyscale-worker\/scale: 403 Forbidden: .*cannot patch/);
  await assert.rejects(api.actuator({ deployment: 'other' }).current(), /404 NotFound/);
  await assert.rejects(api.actuator({ tokenPath: path.join(api.dir, 'missing') }).current(), /ENOENT/);

  const otherDir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-k8s-other-'));
  t.after(() => rmSync(otherDir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(otherDir, 'key.pem'), '-out', path.join(otherDir, 'ca.crt'), '-days', '1', '-subj', '/CN=other'], { stdio: 'ignore' });
  await assert.rejects(api.actuator({ caPath: path.join(otherDir, 'ca.crt') }).current(), /self[- ]signed|certificate/i, 'a server the CA did not sign is refused');

  api.answerWith((s, res) => {
    if (s.method === 'GET') { setTimeout(() => res.destroyed || res.end(), 2000); return true; }
    return false;
  });
  await assert.rejects(api.actuator({ timeoutMs: 200 }).current(), /no answer within 200 ms/);
  api.answerWith((_s, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status' })); return true; });
  await assert.rejects(api.actuator().current(), /something other than a Scale/);
});

test('the in-cluster URL comes from KUBERNETES_SERVICE_HOST and _PORT, an IPv6 host in brackets', () => {
  assert.equal(inClusterBaseUrl({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }), 'https://10.96.0.1:443');
  assert.equal(inClusterBaseUrl({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }), 'https://[fd00::1]:6443');
  assert.throws(() => inClusterBaseUrl({}), /only inside a pod/);
});
