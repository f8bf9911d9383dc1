/** How long a graceful stop may take before the process exits anyway: under Docker's 10 s before SIGKILL. */
const STOP_BOUND_MS = 8000;
/** Node has no PR_SET_PDEATHSIG: the parent's death shows as a change of process.ppid. */
const PARENT_POLL_MS = 500;

export interface Stoppable {
  close(): Promise<void>;
}

/**
 * Runs what `start` starts until SIGTERM or SIGINT arrives or the parent process dies, then closes it
 * and exits: 0 after a clean close, 1 if closing failed or took longer than `stopBoundMs`. The
 * handlers are in place before starting, so a signal during start-up stops the server once it is up.
 * Repeated signals change nothing: a process manager may signal the whole group (npm forwards its
 * own copy), and a second Ctrl-C must not cut the close short.
 */
export async function serveUntilStopped(start: () => Promise<Stoppable>, options: { stopBoundMs?: number; log?: (line: string) => void; onStop?: () => void } = {}): Promise<void> {
  const { stopBoundMs = STOP_BOUND_MS, log = (line: string) => process.stderr.write(`${line}\n`) } = options;
  let server: Stoppable | undefined;
  let stopReason: string | undefined;
  // Started by init (systemd, a container's entry point) the parent is pid 1 already and never changes.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) stop(`parent process ${parent} exited`);
  }, PARENT_POLL_MS);
  parentWatch.unref();

  const close = (running: Stoppable): void => {
    clearInterval(parentWatch);
    running.close().then(() => process.exit(0), (err: unknown) => {
      log(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  };
  const stop = (reason: string): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    log(`${reason}: shutting down`);
    options.onStop?.();
    setTimeout(() => {
      log(`still stopping after ${stopBoundMs} ms: exiting now`);
      process.exit(1);
    }, stopBoundMs);
    if (server) close(server);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    server = await start();
  } catch (err) {
    // Stopped while it waited for its database or bus: the stop was asked for, not a failure.
    if (stopReason === undefined) throw err;
    log('stopped before start-up finished');
    process.exit(0);
  }
  if (stopReason !== undefined) close(server);
}
