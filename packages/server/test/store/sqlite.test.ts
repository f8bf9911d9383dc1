import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { runStoreConformance } from './store.case.ts';

runStoreConformance('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-store-'));
  const store = await openStore({ kind: 'sqlite', path: path.join(dir, 'skyscale.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
