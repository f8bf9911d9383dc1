import { SkyscaleClient } from '@skyscale/client';
import { resolveConfig } from './config.ts';
import type { Output } from './output.ts';

export interface GlobalFlags {
  endpoint?: string;
  apiKey?: string;
  json?: boolean;
}

/** What every command needs: a client built from flags/env/config, and the output mode. */
export function contextOf(command: { optsWithGlobals(): object }): { client: SkyscaleClient; out: Output; endpoint: string } {
  const flags = command.optsWithGlobals() as GlobalFlags;
  const config = resolveConfig(flags);
  return { client: new SkyscaleClient({ endpoint: config.endpoint, apiKey: config.apiKey, token: config.token }), out: { json: flags.json === true }, endpoint: config.endpoint };
}

/** Functions are named by name or id on the command line. */
export async function findFunction(client: SkyscaleClient, ref: string) {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(ref);
  return isId ? client.getFunction(ref) : client.getFunctionByName(ref);
}
