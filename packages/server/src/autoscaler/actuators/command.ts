import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { ScaleReason } from '../decide.ts';
import type { Actuator } from './actuator.ts';

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** How much of the command's stderr goes into the error and the log. */
const STDERR_TAIL = 2000;

export interface CommandActuatorOptions {
  readonly log: Logger;
  /** AUTOSCALER_COMMAND: run by `/bin/sh -c`. */
  readonly command: string;
  readonly timeoutMs?: number;
  /** The environment the command starts from: this process's by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * AUTOSCALER_ACTUATOR=command: runs the operator's AUTOSCALER_COMMAND through `/bin/sh -c` with the
 * wanted count in SKYSCALE_DESIRED_WORKERS and decide()'s reason in SKYSCALE_SCALE_REASON. Nothing is
 * substituted into the command's text: the environment is the only channel, so there is no quoting to
 * get wrong (`systemctl start skyscale-worker@{1..$SKYSCALE_DESIRED_WORKERS}`, a script, …). Exit 0 is
 * success; another exit code, a signal or the timeout (SIGTERM to the shell's process group, SIGKILL 5 s
 * later) is a failure, logged with the tail of its stderr, and the next tick tries again. current() is
 * the last count a run succeeded with, null before the first.
 */
export class CommandActuator implements Actuator {
  readonly kind = 'command';
  readonly #options: CommandActuatorOptions;
  #applied: number | null = null;

  constructor(options: CommandActuatorOptions) {
    this.#options = options;
  }

  async current(): Promise<number | null> {
    return this.#applied;
  }

  async scaleTo(n: number, reason: ScaleReason): Promise<void> {
    const { command, log } = this.#options;
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const began = Date.now();
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...(this.#options.env ?? process.env), SKYSCALE_DESIRED_WORKERS: String(n), SKYSCALE_SCALE_REASON: reason },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout stops what the shell started too
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout = (stdout + s).slice(-STDERR_TAIL)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_TAIL)));
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), 5000);
    }, timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      clearTimeout(timer);
      clearTimeout(killTimer);
    });
    const fields = { command, desired: n, reason, code, signal, ms: Date.now() - began, stderr: stderr.trim() || undefined, stdout: stdout.trim() || undefined };
    if (timedOut || code !== 0) {
      const why = timedOut ? `did not finish within ${timeoutMs} ms` : signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      log.warn(fields, `autoscaler: AUTOSCALER_COMMAND for ${n} workers ${why}`);
      throw new Error(`AUTOSCALER_COMMAND ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`);
    }
    this.#applied = n;
    log.info(fields, `autoscaler: AUTOSCALER_COMMAND ran for ${n} workers`);
  }
}
