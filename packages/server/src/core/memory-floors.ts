import type { Runtime } from './types.ts';

/**
 * The smallest `memoryMb` each runtime runs in: deploys below it are refused, and the sandbox refuses
 * to start or narrow an instance below it, so the two can never disagree. Measured on cgroup v1
 * (docs/runtimes.md#memory): a trivial handler on a 1 MiB event ran 9 of 9 times from 32 MB for node and
 * wasm (which runs in node; 20–24 MB failed 1 in 3) and from 12 MB for python and php; with a tiny event
 * node needed 14 MB, python 6, php 8. Python, php and command (run by the python bootstrap) get 16.
 */
export const MIN_MEMORY_MB = { node: 32, wasm: 32, python: 16, php: 16, command: 16 } as const satisfies Record<Runtime, number>;

export function memoryFloorProblem(runtime: Runtime, memoryMb: number): string | null {
  const floor = MIN_MEMORY_MB[runtime];
  return memoryMb < floor ? `memoryMb must be at least ${floor} for ${runtime} functions, got ${memoryMb}` : null;
}
