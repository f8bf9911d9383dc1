/** Held by one process of the cluster at a time (the reaper's, the autoscaler's): store/postgres/leadership.ts. */
export interface Leadership {
  readonly leader: boolean;
  stop(): Promise<void>;
}
