import { after } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { postgresDatabase, postgresSkip, stopPostgres } from '../helpers/postgres.ts';
import { runConcurrencyConformance } from './store-concurrency.case.ts';
import { runStoreConformance } from './store.case.ts';

after(stopPostgres);

runStoreConformance('postgres', async () => {
  const store = await openStore({ kind: 'postgres', url: await postgresDatabase(), poolSize: 10 });
  return { store, dispose: () => store.close() };
}, { skip: postgresSkip });

// Two stores (two pools) on one database, as two processes would have.
runConcurrencyConformance('postgres', async () => {
  const url = await postgresDatabase();
  const [store, second] = await Promise.all([openStore({ kind: 'postgres', url, poolSize: 5 }), openStore({ kind: 'postgres', url, poolSize: 5 })]);
  return { store, second, dispose: async () => void (await Promise.all([store.close(), second.close()])) };
}, { skip: postgresSkip });
