import type { InvocationResult } from '../core/invocation.ts';
import type { StreamMessage } from '../core/stream.ts';

/**
 * A stream session across the bus: one subject each way (cluster/subjects.ts), so what one side sends
 * arrives in order. Binary frames travel base64-encoded inside the JSON.
 */
export type WireMessage = { data: string; binary: boolean };

/** Control (gateway) → worker, on `sky.s.<id>.in`. */
export type ToWorker =
  | { t: 'start' }
  | { t: 'msg'; m: WireMessage }
  | { t: 'release' }
  | { t: 'end'; graceMs: number }
  | { t: 'abandon' };

/** Worker → control, on `sky.s.<id>.out`. */
export type FromWorker =
  | { t: 'started'; ok: boolean }
  | { t: 'msg'; m: WireMessage; buffered: number }
  | { t: 'credit'; n: number }
  | { t: 'close'; code: number; reason: string }
  | { t: 'writable' }
  | { t: 'outcome'; result: InvocationResult };

export function toWire(message: StreamMessage): WireMessage {
  return message.binary ? { data: Buffer.from(message.data).toString('base64'), binary: true } : { data: String(message.data), binary: false };
}

export function fromWire(message: WireMessage): StreamMessage {
  return message.binary ? { data: Buffer.from(message.data, 'base64'), binary: true } : { data: message.data, binary: false };
}
