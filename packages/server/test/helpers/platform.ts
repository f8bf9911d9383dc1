import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { assemblePlatform, createLogger } from '../../src/main.ts';
import { testPlatformEnv } from './sandbox.ts';

export interface TestPlatform {
  api: FastifyInstance;
  dataDir: string;
  /** Set when started with { listen: true }: the control API's port on 127.0.0.1. */
  port?: number;
  /** The gateway (data plane), always listening on a free port of 127.0.0.1. */
  gatewayUrl: string;
  close(): Promise<void>;
  /** Registers a user and returns a bearer header for them. */
  user(name: string, password?: string): Promise<{ id: string; auth: Record<string, string> }>;
}

/** The real composition, with a temporary data dir, driven in-process through inject(). */
export async function testPlatform(env: Record<string, string> = {}, options: { listen?: boolean; logger?: Logger } = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...testPlatformEnv(), ...env });
  const { api, gateway, close } = await assemblePlatform(config, options.logger ?? createLogger(config));
  let gatewayUrl: string;
  try {
    gatewayUrl = `http://127.0.0.1:${await gateway.listen('127.0.0.1', 0)}`;
  } catch (err) {
    await close();
    throw err;
  }
  let port: number | undefined;
  if (options.listen === true) {
    await api.listen({ host: '127.0.0.1', port: 0 });
    port = (api.server.address() as { port: number }).port;
  }
  return {
    api,
    dataDir,
    port,
    gatewayUrl,
    close: async () => {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    user: async (name, password = 'correct horse battery') => {
      const reg = await api.inject({ method: 'POST', url: '/auth/register', payload: { username: name, password } });
      if (reg.statusCode !== 201) throw new Error(`register ${name}: ${reg.statusCode} ${reg.body}`);
      const login = await api.inject({ method: 'POST', url: '/auth/login', payload: { username: name, password } });
      if (login.statusCode !== 200) throw new Error(`login ${name}: ${login.statusCode} ${login.body}`);
      return { id: reg.json().id, auth: { authorization: `Bearer ${login.json().token}` } };
    },
  };
}

export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json().error?.code;
  } catch {
    return undefined;
  }
}
