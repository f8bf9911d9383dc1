/** deploy/kubernetes: RBAC, namespaces, the pods' privileges, and that the objects refer to each other correctly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { must, platformHealthPaths } from './deploy-files.ts';
import { KUBERNETES, SECRET_EXAMPLE, containers, kubernetes, kustomization } from './kubernetes-files.ts';

const objects = kubernetes({ withExample: true });
const one = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const configMap = one('ConfigMap');
const workerDeployment = must(objects.find((o) => o.kind === 'Deployment' && o.metadata.labels['app.kubernetes.io/component'] === 'worker'), 'the worker Deployment');

/** What the kubernetes actuator does (autoscaler/actuators/kubernetes.ts): GET and PATCH …/deployments/<name>/scale. */
const ACTUATOR_RULE = { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch'] };

test('kustomization applies every manifest but the Secret template', () => {
  const manifests = readdirSync(KUBERNETES).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== SECRET_EXAMPLE);
  assert.deepEqual([...kustomization().resources].sort(), manifests.sort());
});

test('everything is in the one Namespace; nothing is cluster-wide', () => {
  const namespace = one('Namespace').metadata.name;
  for (const object of objects.filter((o) => o.kind !== 'Namespace')) assert.equal(object.metadata.namespace, namespace, `${object.file} ${object.kind}/${object.metadata.name}`);
  assert.deepEqual(objects.filter((o) => /^Cluster/.test(o.kind)).map((o) => o.kind), []);
});

test('RBAC grants exactly get and patch on the worker Deployment\'s scale, to the control pod alone', () => {
  const role = one('Role');
  assert.deepEqual(role.rules, [{ ...ACTUATOR_RULE, resourceNames: [workerDeployment.metadata.name] }]);
  const binding = one('RoleBinding');
  const account = one('ServiceAccount');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace }]);
  for (const { where, pod, component } of containers()) {
    if (component === 'control') assert.equal(pod.serviceAccountName, account.metadata.name, where);
    else assert.deepEqual([pod.serviceAccountName, pod.automountServiceAccountToken], [undefined, false], `${where}: no token`);
  }
});

test('the control plane\'s autoscaler is pointed at that Deployment, in its own namespace', () => {
  const env = (name: string) => must(containers().find((c) => c.component === 'control'), 'the control container').container.env.find((e: { name: string }) => e.name === name);
  assert.equal(env('AUTOSCALER_ACTUATOR').value, 'kubernetes');
  assert.equal(env('K8S_DEPLOYMENT').value, workerDeployment.metadata.name);
  assert.deepEqual(env('K8S_NAMESPACE').valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
  assert.equal(workerDeployment.spec.replicas, Number(configMap.data.MIN_WORKERS), 'workers start at MIN_WORKERS');
});

test('workers are privileged (bubblewrap, cgroups) and named by their pod; control and gateway run as non-root with nothing extra', () => {
  for (const { where, pod, container, component } of containers()) {
    if (component === 'worker') {
      assert.equal(container.securityContext.privileged, true, where);
      assert.deepEqual(container.env.find((e: { name: string }) => e.name === 'WORKER_ID').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } }, where);
      assert.equal(container.ports, undefined, `${where}: a worker listens on nothing`);
    } else {
      assert.equal(container.securityContext.privileged, undefined, where);
      assert.deepEqual([pod.securityContext.runAsNonRoot, pod.securityContext.runAsUser], [true, 10001], where);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false, where);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'], where);
    }
  }
});

test('selectors match their pods; Services and probes use the platform\'s ports and health paths', () => {
  const healthPaths = platformHealthPaths();
  const ports: Record<string, number> = { control: 8080, gateway: 8081 };
  for (const { where, deployment, container, component } of containers()) {
    const labels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(labels[key], value, `${where}: selector ${key}`);
    if (component === 'worker') continue;
    assert.deepEqual(container.ports.map((p: { containerPort: number }) => p.containerPort), [ports[component]], where);
    const portName = container.ports[0].name;
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.equal(probe.httpGet.port, portName, where);
      assert.ok(healthPaths.includes(probe.httpGet.path), `${where}: ${probe.httpGet.path} is not a health path of the platform`);
    }
    const service = objects.find((o) => o.kind === 'Service' && Object.entries(o.spec.selector).every(([k, v]) => labels[k] === v));
    assert.ok(service, `${where}: a Service selects it`);
    assert.deepEqual(service.spec.ports.map((p: Record<string, unknown>) => [p.port, p.targetPort]), [[ports[component], portName]], where);
  }
  const budget = one('PodDisruptionBudget');
  assert.deepEqual(budget.spec.selector.matchLabels, workerDeployment.spec.selector.matchLabels);
  assert.equal(budget.spec.maxUnavailable, 1);
});
