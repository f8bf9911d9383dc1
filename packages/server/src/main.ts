import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from './config/config.ts';
import { checkPrerequisites, describeMissing } from './config/prerequisites.ts';
import { logDestination } from './logging/log-output.ts';
import { assembleDistributed } from './roles/distributed.ts';
import { assembleEmbedded, type AssembledPlatform } from './roles/embedded.ts';

export interface Platform {
  readonly config: Config;
  readonly controlUrl: string;
  /** The data plane: user HTTP routes and /function/{name} (docs/gateway.md). */
  readonly gatewayUrl: string;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'skyscale' }, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] }, logDestination());
}

/** Every part of the platform in this process, not listening yet (tests drive it with inject()). */
export function assemblePlatform(config: Config, logger: Logger): Promise<AssembledPlatform> {
  return assembleEmbedded(config, logger);
}

/**
 * `skyscale serve`: every role in this one process (embedded mode), or the roles `config.roles` names
 * (distributed mode), listening. The URL of a part this process does not run is empty.
 */
export async function startPlatform(config: Config = loadConfig(), logger: Logger = createLogger(config), signal: AbortSignal = new AbortController().signal): Promise<Platform> {
  for (const line of describeMissing(checkPrerequisites(config))) logger.warn(line);
  const platform = config.roles.length === 0 ? await assemblePlatform(config, logger) : await assembleDistributed(config, logger, signal);
  let gatewayPort: number | undefined;
  try {
    await platform.api?.listen({ host: config.host, port: config.port });
    gatewayPort = await platform.gateway?.listen(config.host, config.gatewayPort);
  } catch (err) {
    await platform.close();
    throw err;
  }
  const address = platform.api?.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const hostname = config.host.includes(':') ? `[${config.host}]` : config.host;
  const controlUrl = platform.api === undefined ? '' : `http://${hostname}:${port}`;
  const gatewayUrl = gatewayPort === undefined ? '' : `http://${hostname}:${gatewayPort}`;
  if (config.roles.length === 0) logger.info({ controlUrl, gatewayUrl, dataDir: config.dataDir }, 'skyscale control plane and gateway listening');
  else logger.info({ roles: config.roles, workerId: config.roles.includes('worker') ? config.worker.id : undefined, controlUrl: controlUrl || undefined, gatewayUrl: gatewayUrl || undefined }, `skyscale ${config.roles.join(', ')} running`);

  let closing: Promise<void> | undefined;
  return {
    config,
    controlUrl,
    gatewayUrl,
    close: () => {
      closing ??= platform.close().then(() => logger.info('skyscale stopped'));
      return closing;
    },
  };
}
