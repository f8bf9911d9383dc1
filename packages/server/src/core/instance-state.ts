/**
 * The lifecycle of a sandbox instance as one table (OpenWhisk's ContainerProxy is the model):
 * starting → stem (up, no code) → loading → ready ⇄ busy, and from ready the states snapshots use:
 * pausing → paused, snapshotting. Every state but dead may go to stopping or dead (kill, crash,
 * timeout, oom). An instance changes state only through a transition this table allows.
 */
export const INSTANCE_STATES = ['starting', 'stem', 'loading', 'ready', 'busy', 'pausing', 'paused', 'snapshotting', 'stopping', 'dead'] as const;

export type InstanceState = (typeof INSTANCE_STATES)[number];

const ENDINGS = ['stopping', 'dead'] as const;

export const TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = Object.freeze({
  starting: ['stem', ...ENDINGS],
  stem: ['loading', ...ENDINGS],
  loading: ['ready', ...ENDINGS],
  ready: ['busy', 'pausing', 'snapshotting', ...ENDINGS],
  busy: ['ready', ...ENDINGS],
  // A pause that fails leaves the instance running.
  pausing: ['paused', 'ready', ...ENDINGS],
  paused: ['ready', 'snapshotting', ...ENDINGS],
  // Back to where the snapshot was taken from.
  snapshotting: ['ready', 'paused', ...ENDINGS],
  stopping: ['dead'],
  dead: [],
});

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return TRANSITIONS[from].includes(to);
}
