import assert from 'node:assert/strict';
import { sleep, unique, type WithBus } from './bus-helpers.ts';

export function keyValueCases(withBus: WithBus): void {
  withBus('key-value: put, get, entries, delete', async (bus) => {
    const kv = await bus.keyValue(unique('kv'), { ttlMs: 60_000 });
    assert.equal(await kv.get('missing'), undefined);
    const before = Date.now();
    await kv.put('a', '1');
    await kv.put('b', '2');
    await kv.put('a', '3');
    const a = await kv.get('a');
    assert.equal(a?.value, '3');
    assert.ok(a !== undefined && a.updatedAt >= before - 1000 && a.updatedAt <= Date.now() + 1000, `updatedAt ${a?.updatedAt}`);
    const all = (await kv.entries()).map((e) => [e.key, e.value]).sort();
    assert.deepEqual(all, [['a', '3'], ['b', '2']]);
    await kv.delete('a');
    assert.equal(await kv.get('a'), undefined);
    assert.deepEqual((await kv.entries()).map((e) => e.key), ['b']);
  });

  withBus('key-value: entries lists each key once while its entries are being put again', async (bus) => {
    const kv = await bus.keyValue(unique('kvbusy'), { ttlMs: 60_000 });
    for (const k of ['a', 'b', 'c']) await kv.put(k, '0');
    let writing = true;
    const writer = (async () => {
      for (let i = 1; writing; i++) await Promise.all(['a', 'b', 'c'].map((k) => kv.put(k, String(i))));
    })();
    try {
      for (let round = 0; round < 20; round++) assert.deepEqual((await kv.entries()).map((e) => e.key).sort(), ['a', 'b', 'c']);
    } finally {
      writing = false;
      await writer;
    }
  });

  withBus('key-value: an entry expires ttlMs after its last put', async (bus) => {
    const kv = await bus.keyValue(unique('kvttl'), { ttlMs: 1000 });
    await kv.put('once', 'x');
    await kv.put('kept', 'y');
    await sleep(600);
    await kv.put('kept', 'z');
    assert.equal((await kv.get('once'))?.value, 'x');
    await sleep(700);
    assert.equal(await kv.get('once'), undefined, 'expired 1.3 s after its put');
    assert.equal((await kv.get('kept'))?.value, 'z', 'put again 0.7 s ago');
    assert.deepEqual((await kv.entries()).map((e) => e.key), ['kept']);
    await sleep(600);
    assert.deepEqual(await kv.entries(), []);
  });
}
