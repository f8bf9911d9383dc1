import { after, before, describe } from 'node:test';
import { pino } from 'pino';
import { connectBusWithRetry } from '../../src/bus/index.ts';
import { natsSkip, startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { runBusConformance } from './bus.case.ts';

const skip = natsSkip();

describe('NATS bus', { skip }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(() => server?.dispose());

  runBusConformance('nats', async () => {
    const bus = await connectBusWithRetry(server.url, pino({ level: 'silent' }));
    return { bus, dispose: () => bus.close() };
  });
});
