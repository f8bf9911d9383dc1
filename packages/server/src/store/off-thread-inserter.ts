import { Worker } from 'node:worker_threads';
import type { ExecutionsTable } from './schema.ts';
import { EXECUTION_COLUMNS } from './execution-columns.ts';

type Reply = { seq: number; failed: number; error: string | null };

/**
 * Hands batches of finished sync execution records to a worker thread that inserts them over its own
 * connection (synchronous=NORMAL). The event loop pays only for copying the batch to the worker.
 * A worker that dies fails its in-flight batches and is replaced on the next batch.
 */
export class OffThreadInserter {
  readonly #file: string;
  #worker: Worker | null = null;
  #seq = 0;
  readonly #inFlight = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(file: string) {
    this.#file = file;
  }

  insertMany(rows: ExecutionsTable[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const worker = this.#spawn();
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#inFlight.set(seq, { resolve, reject });
      worker.ref();
      // Positional values: cheaper to copy than objects, and node:sqlite binds them faster than named ones.
      worker.postMessage({ seq, rows: rows.map((row) => EXECUTION_COLUMNS.map((column) => row[column])) });
    });
  }

  #spawn(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL('./record-insert.worker.ts', import.meta.url), { workerData: { file: this.#file } });
    worker.on('message', ({ seq, failed, error }: Reply) => {
      const waiting = this.#inFlight.get(seq);
      this.#inFlight.delete(seq);
      if (this.#inFlight.size === 0) worker.unref();
      if (error === null) waiting?.resolve();
      else waiting?.reject(new Error(`${failed} execution record(s) not written: ${error}`));
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = null;
      for (const waiting of this.#inFlight.values()) waiting.reject(err);
      this.#inFlight.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the record writer thread exited (${code})`)));
    // Keeps the process alive only while batches are in flight.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Waits for the batches in flight, then stops the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    await Promise.allSettled([...this.#inFlight.keys()].map((seq) => new Promise<void>((resolve) => {
      const waiting = this.#inFlight.get(seq)!;
      this.#inFlight.set(seq, { resolve: () => (waiting.resolve(), resolve()), reject: (err) => (waiting.reject(err), resolve()) });
    })));
    this.#worker = null;
    worker.ref();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ close: true });
    await exited;
  }
}
