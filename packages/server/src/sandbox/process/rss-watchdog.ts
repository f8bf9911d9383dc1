import { descendantsOf, memoryBytes } from './process-tree.ts';

const POLL_MS = 50;

/**
 * Memory limit without a memory cgroup: polls the memory (PSS) of the instance's process tree and calls
 * `onExceeded` once it goes over. Weaker than a cgroup (a fast allocation can overshoot between
 * polls), so the probe reports it as a fallback.
 */
export function startRssWatchdog(rootPid: number, limitBytes: () => number, onExceeded: () => void): () => void {
  const timer = setInterval(() => {
    const total = descendantsOf(rootPid).reduce((sum, pid) => sum + memoryBytes(pid), 0);
    if (total > limitBytes()) {
      clearInterval(timer);
      onExceeded();
    }
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
