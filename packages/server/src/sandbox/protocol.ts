/**
 * Host side of the runtime line protocol (NDJSON). The host writes to the sandbox's fd 3 and reads
 * the sandbox's fd 4. The bootstraps in src/runtimes/ implement the other side; they cannot import
 * this file, so the shapes are repeated there. Everything read here is untrusted input.
 */

import { MAX_JSON_DEPTH, nestedDeeperThan, tooDeepMessage } from '../core/json-depth.ts';
import type { StreamRequestInfo } from '../core/stream.ts';

export type { StreamRequestInfo };

export const PROTOCOL_FD_IN = 3;
export const PROTOCOL_FD_OUT = 4;

export interface LoadMessage {
  type: 'load';
  id: string;
  /** The runtime to become; the bootstraps serve several (node: node, wasm; python: python, command). */
  runtime: string;
  handler: string;
  env: Record<string, string>;
  functionId: string;
  functionName: string;
  functionVersion: string;
  /** memoryMb: the function's limit, for runtimes that set their own cap below it (PHP's memory_limit). */
  limits: { logBytes: number; outputBytes: number; memoryMb: number };
  /**
   * Present when the function may call the host API: the bootstrap forwards a loopback port to this
   * socket, at most `maxConnections` connections at once (further ones wait their turn).
   */
  api?: { socket: string; host?: string; maxConnections: number };
}

export interface InvokeMessage {
  type: 'invoke';
  id: string;
  event: unknown;
  /** The command runtime gets the input as JSON text instead (argv[1]): the host's serialisation, as stored. */
  input?: string;
  context: { executionId: string; deadline: number };
}

/**
 * Stream sessions (docs/streams.md). Flow control is credit-based in both directions and counted in
 * messages and payload bytes: a side may send while its unacknowledged messages are fewer than
 * `window.messages` and their bytes fewer than `window.bytes` (so one message may overshoot the bytes by
 * at most `maxMessageBytes`). Acknowledgements carry only a count: both sides release sizes in order.
 */
export interface StreamWindow {
  messages: number;
  bytes: number;
}

export interface StreamOpenMessage {
  type: 'stream_open';
  id: string;
  context: { executionId: string; deadline: number; request: StreamRequestInfo };
  /** The window the runtime sends in (its credit towards the host), and the largest message either way. */
  window: StreamWindow;
  maxMessageBytes: number;
}

/** One message of a session; binary payloads travel as base64. */
export interface StreamDataMessage {
  type: 'stream_data';
  id: string;
  data: string;
  binary?: true;
}

export type HostStreamMessage =
  | StreamOpenMessage
  | StreamDataMessage
  /** The client went away: the function's iterator ends once what it was sent is consumed. */
  | { type: 'stream_end'; id: string }
  /** The host wrote `messages` more of the runtime's messages out to the client. */
  | { type: 'stream_credit'; id: string; messages: number };

export interface ErrorPayload {
  /** '' for an error the function reported as data (`{"error": ...}` from a command or wasm module). */
  name: string;
  message: string;
  stack: string;
}

export type SandboxMessage =
  | { type: 'ready'; runtime: string; version: string }
  | { type: 'log'; id: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'loaded'; id: string; ok: true; dropped: number }
  | { type: 'loaded'; id: string; ok: false; error: ErrorPayload; dropped: number }
  | { type: 'result'; id: string; ok: true; result: unknown; dropped: number }
  /**
   * sigkilled: a process of the execution died of SIGKILL, which may have been the cgroup's OOM killer.
   * exiting: the runtime process is ending after this reply (PHP's exit() or a fatal error): never reuse it.
   */
  | { type: 'result'; id: string; ok: false; error: ErrorPayload; dropped: number; outOfMemory: boolean; sigkilled: boolean; exiting: boolean }
  | { type: 'output_exceeded'; id: string; bytes: number }
  | { type: 'stream_data'; id: string; data: string; binary: boolean }
  /** The function consumed `messages` more of the messages the host sent it. */
  | { type: 'stream_ack'; id: string; messages: number }
  /** The function asked to close the client connection. */
  | { type: 'stream_close'; id: string; code: number; reason: string };

export function encodeMessage(message: LoadMessage | InvokeMessage | HostStreamMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * An invoke line. With `eventJson` (JSON text that was parsed successfully, so it is one JSON value)
 * the text is spliced in rather than re-serialising a large event. Raw line breaks in JSON text can
 * only be whitespace between tokens (strings cannot hold them), so they become spaces.
 */
export function encodeInvoke(message: InvokeMessage, eventJson: string | undefined): string {
  if (eventJson === undefined) return encodeMessage(message);
  const event = eventJson.includes('\n') ? eventJson.replaceAll('\n', ' ') : eventJson;
  return `{"type":"invoke","id":${JSON.stringify(message.id)},"context":${JSON.stringify(message.context)},"event":${event}}\n`;
}

/** A result the platform could not store or answer with (JSON.stringify recurses): the function's error. */
const RESULT_TOO_DEEP: ErrorPayload = Object.freeze({ name: 'RangeError', message: tooDeepMessage('The handler\'s result'), stack: '' });

/** Returns null for anything that is not a well-formed message: the caller treats that as a protocol violation. */
export function parseSandboxMessage(line: string): SandboxMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.type !== 'string') return null;
  const m = value;
  switch (m.type) {
    case 'ready':
      return { type: 'ready', runtime: String(m.runtime ?? ''), version: String(m.version ?? '') };
    case 'log':
      if (!isId(m.id) || typeof m.data !== 'string') return null;
      return { type: 'log', id: m.id, stream: m.stream === 'stderr' ? 'stderr' : 'stdout', data: m.data };
    case 'loaded':
    case 'result': {
      if (!isId(m.id) || typeof m.ok !== 'boolean') return null;
      const dropped = typeof m.dropped === 'number' ? m.dropped : 0;
      if (m.ok) {
        if (m.type === 'loaded') return { type: 'loaded', id: m.id, ok: true, dropped };
        // The line is the result inside one object: one level more than the result's own.
        if (nestedDeeperThan(line, MAX_JSON_DEPTH + 1)) return { type: 'result', id: m.id, ok: false, error: RESULT_TOO_DEEP, dropped, outOfMemory: false, sigkilled: false, exiting: false };
        return { type: 'result', id: m.id, ok: true, result: m.result ?? null, dropped };
      }
      const error = parseError(m.error);
      return m.type === 'loaded'
        ? { type: 'loaded', id: m.id, ok: false, error, dropped }
        : { type: 'result', id: m.id, ok: false, error, dropped, outOfMemory: m.outOfMemory === true, sigkilled: m.sigkilled === true, exiting: m.exiting === true };
    }
    case 'output_exceeded':
      if (!isId(m.id)) return null;
      return { type: 'output_exceeded', id: m.id, bytes: typeof m.bytes === 'number' ? m.bytes : 0 };
    case 'stream_data':
      if (!isId(m.id) || typeof m.data !== 'string') return null;
      return { type: 'stream_data', id: m.id, data: m.data, binary: m.binary === true };
    case 'stream_ack':
      if (!isId(m.id) || !isCount(m.messages)) return null;
      return { type: 'stream_ack', id: m.id, messages: m.messages };
    case 'stream_close':
      if (!isId(m.id)) return null;
      return { type: 'stream_close', id: m.id, code: isCloseCode(m.code) ? m.code : 1000, reason: typeof m.reason === 'string' ? m.reason : '' };
    default:
      return null;
  }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/** Codes a function may close with: normal closure, or the range RFC 6455 leaves to applications. */
export function isCloseCode(value: unknown): value is number {
  return Number.isInteger(value) && (value === 1000 || ((value as number) >= 3000 && (value as number) <= 4999));
}

function parseError(value: unknown): ErrorPayload {
  const e = isRecord(value) ? value : {};
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(e.message ?? ''),
    stack: typeof e.stack === 'string' ? e.stack : '',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}
