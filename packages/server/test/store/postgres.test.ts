import { after } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { postgresDatabase, postgresSkip, stopPostgres } from '../helpers/postgres.ts';
import { runStoreConformance } from './store.case.ts';

after(stopPostgres);

runStoreConformance('postgres', async () => {
  const store = await openStore({ kind: 'postgres', url: await postgresDatabase(), poolSize: 10 });
  return { store, dispose: () => store.close() };
}, { skip: postgresSkip });
