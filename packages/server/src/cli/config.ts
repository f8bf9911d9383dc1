import { chmodSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface CliConfig {
  endpoint?: string;
  apiKey?: string;
  token?: string;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : path.join(homedir(), '.config');
  return path.join(base, 'skyscale', 'config.json');
}

export function readConfigFile(file = configPath()): CliConfig {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CliConfig;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** Saved with mode 0600: it holds credentials. */
export function writeConfigFile(config: CliConfig, file = configPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function clearCredentials(file = configPath()): void {
  const { endpoint } = readConfigFile(file);
  if (endpoint === undefined) rmSync(file, { force: true });
  else writeConfigFile({ endpoint }, file);
}

/** Flags win over environment variables, which win over the config file. */
export function resolveConfig(flags: { endpoint?: string; apiKey?: string }, env: NodeJS.ProcessEnv = process.env, file = configPath(env)): Required<Pick<CliConfig, 'endpoint'>> & CliConfig {
  const saved = readConfigFile(file);
  const apiKey = flags.apiKey ?? env.SKYSCALE_API_KEY ?? saved.apiKey;
  const token = env.SKYSCALE_TOKEN ?? saved.token;
  return {
    endpoint: flags.endpoint ?? env.SKYSCALE_ENDPOINT ?? saved.endpoint ?? DEFAULT_ENDPOINT,
    apiKey: apiKey === '' ? undefined : apiKey,
    token: apiKey ? undefined : token,
  };
}
