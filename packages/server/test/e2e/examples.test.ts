import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SkyscaleClient, type Runtime } from '@skyscale/client';
import { packDirectory } from '../../src/cli/pack.ts';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { runtimeSkip, sandboxSkipReason } from '../helpers/sandbox.ts';
import { compileWat } from '../sandbox/fixtures-more.ts';

const examples = path.resolve(import.meta.dirname, '../../../../examples');

describe('the examples deploy and run', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let client: SkyscaleClient;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' }, { listen: true });
    const { auth } = await p.user('examples');
    client = new SkyscaleClient({ endpoint: `http://127.0.0.1:${p.port}`, token: auth.authorization.slice(7) });
  });
  after(() => p.close());

  type Case = [string, Runtime, unknown, Record<string, string> | undefined, (r: any) => boolean, string?];
  const cases: Case[] = [
    ['hello-node', 'node', { name: 'Ada' }, undefined, (r) => r.message === 'Hello Ada'],
    ['hello-typescript', 'node', { name: 'Ada', mood: 'grumpy' }, undefined, (r) => r.message === "Oh, it's you, Ada."],
    ['hello-python', 'python', { name: 'Ada' }, { GREETING: 'hi' }, (r) => r.message === 'Hello Ada' && r.greeting_env === 'hi'],
    ['hello-php', 'php', { name: 'Ada' }, { GREETING: 'hi' }, (r) => r.message === 'Hello Ada' && r.greeting_env === 'hi' && r.served === 1],
    ['hello-wasm', 'wasm', { name: 'Ada' }, undefined, (r) => r.message === 'Hello Ada'],
    ['counter-wasm', 'wasm', {}, undefined, (r) => r.count === 1],
    ['seed-command-python', 'command', { name: 'World' }, undefined, (r) => r.message === 'Hello World', 'main.py'],
  ];
  test('stream-node and stream-python: a WebSocket conversation each', async () => {
    const { key } = await client.createApiKey('streams');
    const streams = new SkyscaleClient({ endpoint: `http://127.0.0.1:${p.port}`, gatewayEndpoint: p.gatewayUrl, apiKey: key });
    await client.deployBundle({ name: 'words', runtime: 'node' }, await packDirectory(path.join(examples, 'stream-node')));
    const words = await streams.openStream('words', { query: { user: 'ada' } });
    assert.match(String(await words.next()), /^hello ada/);
    words.send('the cat and the dog');
    assert.equal(await words.next(), '4 distinct words so far');
    words.send('stats');
    assert.deepEqual(JSON.parse(String(await words.next())), { the: 2, cat: 1, and: 1, dog: 1 });
    words.send('bye');
    assert.deepEqual(await words.closed, { code: 4000, reason: 'bye' });

    await client.deployBundle({ name: 'averages', runtime: 'python' }, await packDirectory(path.join(examples, 'stream-python')));
    const averages = await streams.openStream('averages');
    averages.send('3');
    assert.equal(await averages.next(), 'average of 1: 3');
    averages.send('x');
    assert.equal(await averages.next(), "not a number: 'x'");
    averages.send('5');
    assert.equal(await averages.next(), 'average of 2: 4');
    averages.close();
    assert.equal((await averages.closed).code, 1000);
  });

  for (const [dir, runtime, event, env, check, handler] of cases) {
    test(dir, { skip: runtimeSkip(runtime) }, async () => {
      const fn = await client.deployBundle({ name: dir, runtime, env, handler }, await packDirectory(path.join(examples, dir)));
      const execution = await client.invoke({ id: fn.id }, event);
      assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
      assert.ok(check(execution.result), JSON.stringify(execution.result));
    });
  }

  test('the examples\' .wasm files are the build of their .wat sources (npm run build:examples)', async () => {
    for (const dir of ['hello-wasm', 'counter-wasm']) {
      const watFile = readdirSync(path.join(examples, dir)).find((f) => f.endsWith('.wat'))!;
      const built = await compileWat({ [watFile]: readFileSync(path.join(examples, dir, watFile), 'utf8') });
      assert.ok(built[watFile]!.equals(readFileSync(path.join(examples, dir, 'main.wasm'))), `${dir}/main.wasm is stale: run npm run build:examples`);
    }
  });
});
