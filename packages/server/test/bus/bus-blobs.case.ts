import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { unique, type WithBus } from './bus-helpers.ts';

export function blobCases(withBus: WithBus): void {
  withBus('blobs: a value several times maxPayload goes in and comes back whole; has and delete', async (bus) => {
    const blobs = await bus.blobs(unique('blobs'), {});
    const big = randomBytes(Math.min(bus.maxPayload * 3 + 17, 8 * 1024 * 1024));
    assert.equal(await blobs.get('missing'), undefined);
    assert.equal(await blobs.has('missing'), false);
    await blobs.put('big', big);
    assert.equal(await blobs.has('big'), true);
    const back = await blobs.get('big');
    assert.ok(back !== undefined && Buffer.from(back).equals(big), 'the same bytes');
    await blobs.put('big', Buffer.from('smaller'));
    assert.equal(Buffer.from((await blobs.get('big'))!).toString(), 'smaller', 'a put replaces');
    await blobs.delete('big');
    assert.equal(await blobs.get('big'), undefined);
    await blobs.delete('big');
  });
}
