import type { Readable, Writable } from 'node:stream';
import type { ExitCause, InvokeOutcome, InvokeRequest, LoadOutcome, LoadRequest, SandboxRuntime, StreamRequest, StreamSession } from '../driver.ts';
import type { ResolvedLimits } from '../limits.ts';
import { LineSplitter } from '../line-splitter.ts';
import { encodeInvoke, encodeMessage, parseSandboxMessage, type LoadMessage, type SandboxMessage } from '../protocol.ts';
import { captured, errorOutcome, newPendingCall, outcomeOnExit, type ExitStatus, type PendingCall, type Termination } from './pending-call.ts';
import { ProcessStreamSession } from './stream-session.ts';

/** What the channel needs from the instance it serves: its limits, its life, and word of what the runtime said. */
export interface ChannelHost {
  /** The limits in force now (a load may narrow them). */
  limits(): Pick<ResolvedLimits, 'logBytes' | 'outputBytes' | 'memoryMb'>;
  /** Why the instance is going away, once it is: a call made from then on settles at once. */
  ending(): Termination | null;
  /** Ends the instance, blaming `callId` (null: no call in particular). */
  terminate(cause: ExitCause, reason: string, callId: string | null): void;
  /** Whether the memory cgroup's OOM killer has struck: a call whose process was SIGKILLed is then `oom`. */
  oomKilled(): boolean;
  /** The runtime reported it is up. */
  ready(): void;
  /** A load succeeded. */
  loaded(): void;
  /** A reply settled a call, and no invocation or stream session is in flight any more. */
  idle(): void;
}

/**
 * The host's end of the line protocol (protocol.ts) with one runtime: framing, the calls in flight
 * and their logs, their replies, and stream sessions. It is attached to a pair of streams, not to a
 * process: raw output and the end of the process are handed to it by whoever owns the process.
 */
export class RuntimeChannel {
  readonly #input: Writable;
  readonly #host: ChannelHost;
  readonly #pending = new Map<string, PendingCall>();
  readonly #streams = new Map<string, ProcessStreamSession>();
  #calls = 0;
  #corked = false;

  /** `input` carries host → runtime lines, `output` runtime → host lines. */
  constructor(input: Writable, output: Readable, host: ChannelHost) {
    this.#input = input;
    this.#host = host;
    const limits = host.limits();
    // Load can only narrow the limits, so a bound computed from the start limits holds for the instance's life.
    const maxLine = limits.outputBytes + 6 * limits.logBytes + 64 * 1024;
    const splitter = new LineSplitter(maxLine, (line) => this.#onLine(line), () => host.terminate('output_truncated', 'the runtime sent an oversized message', this.soleCallId));
    output.on('data', (chunk: Buffer) => splitter.push(chunk));
  }

  /** Calls (loads, invocations, stream sessions) sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** The call in flight when it is the only one (what raw output, a crash or the memory are blamed on), else null. */
  get soleCallId(): string | null {
    return this.#soleCall()?.id ?? null;
  }

  load(request: LoadRequest, runtime: SandboxRuntime, api: LoadMessage['api']): Promise<LoadOutcome> {
    const id = `l${++this.#calls}`;
    const { logBytes, outputBytes, memoryMb } = this.#host.limits();
    const functionId = request.functionId ?? '';
    const env = functionId === '' ? request.env : { ...request.env, SKYSCALE_FUNCTION_ID: functionId };
    const line = encodeMessage({ type: 'load', id, runtime, handler: request.handler, env, functionId, functionName: request.functionName, functionVersion: request.functionVersion, limits: { logBytes, outputBytes, memoryMb }, api });
    return this.#call(id, 'load', line, request.deadlineMs) as Promise<LoadOutcome>;
  }

  invoke(request: InvokeRequest, runtime: SandboxRuntime): Promise<InvokeOutcome> {
    const id = `i${++this.#calls}`;
    const event = request.event ?? null;
    const context = { executionId: request.executionId, deadline: request.deadlineMs };
    const line = runtime === 'command'
      ? encodeMessage({ type: 'invoke', id, event: null, input: JSON.stringify(event), context })
      : encodeInvoke({ type: 'invoke', id, event, context }, request.eventJson);
    return this.#call(id, 'invoke', line, request.deadlineMs) as Promise<InvokeOutcome>;
  }

  openStream(request: StreamRequest): StreamSession {
    const id = `s${++this.#calls}`;
    const port = { send: (line: string) => this.#send(line), violate: (reason: string) => this.#host.terminate('crashed', reason, id) };
    const session = new ProcessStreamSession(id, request, port, (open) => this.#call(id, 'stream', open, request.deadlineMs) as Promise<InvokeOutcome>);
    this.#streams.set(id, session);
    void session.outcome.then(() => this.#streams.delete(id));
    return session;
  }

  /** fd 1/2 bytes bypassed the bootstrap (a child process, a native write): still logs, still bounded. */
  rawOutput(chunk: Buffer, text: string): void {
    const call = this.#soleCall();
    if (!call) return;
    call.rawBytes += chunk.length;
    call.logs.append(text);
    const { outputBytes } = this.#host.limits();
    // A stream session may run for hours: its logs are bounded (logBytes) but never fatal.
    if (call.kind !== 'stream' && call.rawBytes > outputBytes) this.#host.terminate('output_truncated', `more than ${outputBytes} bytes of output`, call.id);
  }

  /** The runtime is gone: every call still in flight settles with what `end` and `status` make of it. */
  close(end: Termination, status: ExitStatus): void {
    for (const call of this.#pending.values()) {
      clearTimeout(call.timer);
      call.settle(outcomeOnExit(call, end, status, this.#host.limits()));
    }
    this.#pending.clear();
  }

  #call(id: string, kind: PendingCall['kind'], line: string, deadlineMs: number): Promise<InvokeOutcome | LoadOutcome> {
    return new Promise((settle) => {
      const call = newPendingCall(id, kind, this.#host.limits().logBytes, deadlineMs, settle, () => this.#host.terminate('timeout', `${kind} exceeded its deadline`, id));
      const ending = this.#host.ending();
      if (ending) {
        clearTimeout(call.timer);
        settle(outcomeOnExit(call, ending, { exitCode: null, signal: null }, this.#host.limits()));
        return;
      }
      this.#pending.set(id, call);
      this.#send(line);
    });
  }

  /**
   * Writes to the runtime are coalesced per event-loop turn: many invocations arriving from different
   * sockets in one turn cost one write (and one wake-up of the sandbox) instead of one each.
   */
  #send(line: string): void {
    const stream = this.#input;
    if (!this.#corked) {
      this.#corked = true;
      stream.cork();
      setImmediate(() => {
        this.#corked = false;
        stream.uncork();
      });
    }
    stream.write(line);
  }

  #take(id: string): PendingCall | undefined {
    const call = this.#pending.get(id);
    if (!call) return undefined;
    this.#pending.delete(id);
    clearTimeout(call.timer);
    return call;
  }

  #soleCall(): PendingCall | undefined {
    return this.#pending.size === 1 ? this.#pending.values().next().value : undefined;
  }

  #onLine(line: string): void {
    const message = parseSandboxMessage(line);
    if (!message) return this.#host.terminate('crashed', 'the runtime broke the protocol', this.soleCallId);
    if (message.type === 'ready') {
      this.#host.ready();
    } else if (message.type === 'log') {
      this.#pending.get(message.id)?.logs.append(message.data);
    } else if (message.type === 'stream_data' || message.type === 'stream_ack' || message.type === 'stream_close') {
      this.#streams.get(message.id)?.receive(message);
    } else if (message.type === 'output_exceeded') {
      this.#pending.get(message.id)?.logs.producedAtLeast(message.bytes);
      this.#host.terminate('output_truncated', `more than ${this.#host.limits().outputBytes} bytes of output`, message.id);
    } else {
      // What the runtime wrote raw to fd 1/2 before replying (PHP's STDERR, a child process) is in
      // this poll batch too: settle after it, so it lands in the call's logs.
      setImmediate(() => this.#onReply(message));
    }
  }

  #onReply(message: Extract<SandboxMessage, { type: 'loaded' | 'result' }>): void {
    const call = this.#take(message.id);
    if (!call) return;
    call.logs.addDropped(message.dropped);
    if (message.type === 'loaded' && message.ok) {
      this.#host.loaded();
      call.settle({ kind: 'loaded', ...captured(call) });
    } else if (message.type === 'loaded' && !message.ok) {
      call.settle(errorOutcome(call, message.error));
      this.#host.terminate('killed', 'the function failed to load', null);
    } else if (message.type === 'result' && message.ok) {
      call.settle({ kind: 'ok', result: message.result, ...captured(call) });
    } else if (message.type === 'result' && !message.ok && (message.outOfMemory || (message.sigkilled && this.#host.oomKilled()))) {
      call.settle({ kind: 'oom', memoryMb: this.#host.limits().memoryMb, ...captured(call) });
      this.#host.terminate('oom', `${message.error.name}: ${message.error.message}`, null);
    } else if (message.type === 'result' && !message.ok) {
      call.settle(errorOutcome(call, message.error));
      if (message.exiting) this.#host.terminate('killed', `the runtime is ending: ${message.error.name}`, null);
    }
    if (!this.#running()) this.#host.idle();
  }

  /** Whether anything but a load is in flight (an invocation or a stream session). */
  #running(): boolean {
    for (const call of this.#pending.values()) if (call.kind !== 'load') return true;
    return false;
  }
}
