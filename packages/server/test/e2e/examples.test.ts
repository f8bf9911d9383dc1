import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SkyscaleClient } from '@skyscale/client';
import { packDirectory } from '../../src/cli/pack.ts';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

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

  const cases: Array<[string, 'node' | 'python', unknown, Record<string, string> | undefined, unknown]> = [
    ['hello-node', 'node', { name: 'Ada' }, undefined, (r: { message: string }) => r.message === 'Hello Ada'],
    ['hello-typescript', 'node', { name: 'Ada', mood: 'grumpy' }, undefined, (r: { message: string }) => r.message === "Oh, it's you, Ada."],
    ['hello-python', 'python', { name: 'Ada' }, { GREETING: 'hi' }, (r: { message: string; greeting_env: string }) => r.message === 'Hello Ada' && r.greeting_env === 'hi'],
  ];
  for (const [dir, runtime, event, env, check] of cases) {
    test(dir, async () => {
      const fn = await client.deployBundle({ name: dir, runtime, env }, await packDirectory(path.join(examples, dir)));
      const execution = await client.invoke({ id: fn.id }, event);
      assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
      assert.ok((check as (r: unknown) => boolean)(execution.result), JSON.stringify(execution.result));
    });
  }
});
