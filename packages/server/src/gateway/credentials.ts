import type { IncomingMessage } from 'node:http';
import { looksLikeApiKey } from '../auth/tokens.ts';

/**
 * A platform API key in `X-API-Key` or `Authorization: Bearer sk_…`; other values are the app's own and
 * pass through to the function. `header` names where it was, so it can be removed before the function sees it.
 */
export function platformKey(req: IncomingMessage): { key: string; header: string } | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && looksLikeApiKey(header.trim())) return { key: header.trim(), header: 'x-api-key' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match !== null && looksLikeApiKey(match[1]) ? { key: match[1], header: 'authorization' } : undefined;
}

/** The peer's address, which failed keys are counted by (the gateway trusts no forwarding header). */
export const clientAddressOf = (req: IncomingMessage): string => req.socket.remoteAddress ?? '';
