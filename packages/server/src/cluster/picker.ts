import type { InvocationTarget } from '../core/invocation.ts';

/**
 * Where sync invocations and stream sessions go: the workers that heartbeat (worker/registry), seen by
 * a control or gateway process.
 */
export interface WorkerPicker {
  /** A ready worker for this version, not among `exclude`: one with a warm instance first, then the lowest load score. */
  pick(target: InvocationTarget, exclude: ReadonlySet<string>): Promise<string | undefined>;
  /** A call to the worker starts / ends (the picker counts them between heartbeats). */
  begin(workerId: string): void;
  end(workerId: string): void;
  /** False once the worker missed 3 heartbeats, said it is draining, or left. */
  alive(workerId: string): Promise<boolean>;
}

/**
 * Text too large for one bus message goes by reference: it is stashed (JetStream's object store) and
 * the message carries its name. The reader deletes it.
 */
export interface PayloadStash {
  put(text: string): Promise<string>;
  /** The text and its removal; rejects when there is no such entry. */
  take(ref: string): Promise<string>;
}

/** A text as a message carries it: inline when it fits, else by reference. */
export type Carried = { inline: string } | { ref: string };

/** Room kept in a message for its envelope around the carried text. */
const ENVELOPE_BYTES = 4096;

export async function carry(text: string, maxPayload: number, stash: PayloadStash): Promise<Carried> {
  if (Buffer.byteLength(text) + ENVELOPE_BYTES <= maxPayload) return { inline: text };
  return { ref: await stash.put(text) };
}

export async function uncarry(carried: Carried, stash: PayloadStash): Promise<string> {
  return 'inline' in carried ? carried.inline : stash.take(carried.ref);
}
