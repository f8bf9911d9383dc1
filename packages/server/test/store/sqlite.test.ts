import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { runConcurrencyConformance, sameStoreTwice } from './store-concurrency.case.ts';
import { runStoreConformance, type OpenStore } from './store.case.ts';

const open: OpenStore = async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-store-'));
  const store = await openStore({ kind: 'sqlite', path: path.join(dir, 'skyscale.db') });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

runStoreConformance('sqlite', open);
// One process holds a SQLite data directory (the DATA_DIR lock): concurrent calls on one store.
runConcurrencyConformance('sqlite', sameStoreTwice(open));
