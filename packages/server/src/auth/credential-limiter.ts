import { FailureWindow, rateLimited } from './failure-window.ts';

/** How long a credential that authenticated from an address stays known there. */
const KNOWN_FOR_MS = 24 * 3600 * 1000;
/** Known (address, credential) pairs kept at most; the least recently used go first. */
const MAX_KNOWN = 50_000;

/** How an admitted attempt ended: `error` when the check itself failed (the store), which counts for nothing. */
export type AttemptOutcome = 'valid' | 'invalid' | 'error';

/**
 * Failed credentials (API keys, session tokens) per client, in a sliding window. Past the limit, a
 * client's credentials are answered 429 without being checked, so a guesser learns nothing more until
 * the window has passed — except credentials that already authenticated from that client: whoever
 * shares an address with an attacker (NAT, a proxy) keeps working. Other clients are never affected.
 * Attempts still being checked count against the limit too (one per distinct credential), or a burst
 * of concurrent guesses would all be admitted before the first failure is recorded.
 */
export class CredentialLimiter {
  readonly #max: number;
  readonly #window: FailureWindow;
  /** `client credential-digest` → when it last authenticated; a Map keeps insertion order, so oldest first. */
  readonly #known = new Map<string, number>();
  /** client → digest → attempts in flight, for credentials not known there. */
  readonly #inFlight = new Map<string, Map<string, number>>();

  constructor(maxFailures: number, windowSeconds: number) {
    this.#max = maxFailures;
    this.#window = new FailureWindow(windowSeconds);
  }

  /** Admits an attempt, or throws RATE_LIMITED; the attempt is settled by calling what this returns. */
  admit(client: string, digest: string, now = Date.now()): (outcome: AttemptOutcome) => void {
    const pair = `${client} ${digest}`;
    const seen = this.#known.get(pair);
    if (seen !== undefined && now - seen < KNOWN_FOR_MS) return (outcome) => this.#settle(client, pair, outcome);
    const flying = this.#inFlight.get(client) ?? new Map<string, number>();
    const others = flying.size - (flying.has(digest) ? 1 : 0);
    // Blocked by attempts in flight alone: they settle within a request's time.
    const waitMs = others >= this.#max ? 1000 : this.#window.waitMs(client, this.#max - others, now);
    if (waitMs > 0) throw rateLimited('failed credentials from this address', waitMs);
    flying.set(digest, (flying.get(digest) ?? 0) + 1);
    this.#inFlight.set(client, flying);
    return (outcome) => {
      const left = (flying.get(digest) ?? 1) - 1;
      if (left > 0) flying.set(digest, left);
      else flying.delete(digest);
      if (flying.size === 0) this.#inFlight.delete(client);
      this.#settle(client, pair, outcome);
    };
  }

  #settle(client: string, pair: string, outcome: AttemptOutcome): void {
    if (outcome === 'invalid') this.#window.add(client);
    if (outcome !== 'valid') return;
    this.#known.delete(pair);
    this.#known.set(pair, Date.now());
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.keys().next().value!);
  }
}
