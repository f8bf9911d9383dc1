import { Command, Option } from '@commander-js/extra-typings';
import type { ExecutionStatus } from '@skyscale/client';
import { contextOf, findFunction } from '../context.ts';
import { ago, printJson, printRecord, printTable } from '../output.ts';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'output_truncated', 'system_error', 'cancelled', 'dead_lettered'] as const;

export function executionCommands(): Command[] {
  const exec = new Command('exec').description('Inspect executions');

  exec.command('get').description('Show an execution').argument('<id>').action(async (id, _opts, cmd) => {
    const { client, out } = contextOf(cmd);
    printRecord(out, { ...(await client.getExecution(id)) });
  });

  exec.command('list')
    .description('List executions, newest first')
    .addOption(new Option('-s, --status <status>', 'only this status').choices(STATUSES))
    .option('-f, --function <name|id>', 'only this function')
    .option('-l, --limit <n>', 'how many', '20')
    .option('--cursor <cursor>', 'the nextCursor of a previous page')
    .action(async (opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const functionId = opts.function === undefined ? undefined : (await findFunction(client, opts.function)).id;
      const page = await client.listExecutions({ status: opts.status as ExecutionStatus | undefined, functionId, limit: Number(opts.limit), cursor: opts.cursor });
      printTable(out, page, ['id', 'function', 'version', 'status', 'duration', 'cold', 'created'], page.items.map((e) => [e.id, e.functionName, e.version, e.status, e.durationMs === null ? null : `${e.durationMs.toFixed(1)} ms`, e.coldStart, ago(e.createdAt)]));
      if (!out.json && page.nextCursor !== null) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    });

  exec.command('logs').description("Print an execution's captured output").argument('<id>').action(async (id, _opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const logs = await client.getExecutionLogs(id);
    if (out.json) return printJson(logs);
    process.stdout.write(logs.logs);
    if (logs.truncated) process.stderr.write('(logs truncated)\n');
  });

  const vms = new Command('vms').description('Running instances');
  vms.command('list').description('List instances of your functions').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listVms();
    printTable(out, items, ['id', 'worker', 'function', 'version', 'runtime', 'state', 'pid', 'memory', 'invocations', 'uptime'], items.map((i) => [
      i.id, i.workerId, i.functionName, i.version, i.runtime, i.state, i.pid, i.memoryBytes === null ? null : `${(i.memoryBytes / 1048576).toFixed(1)} MB`, i.invocations, `${Math.round(i.uptimeMs / 1000)}s`,
    ]));
  });

  vms.command('load').description('Live load of your instances: smoothed CPU, memory, I/O and the placement score').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const report = await client.workerLoad();
    const pct = (v: number | undefined): string | null => (v === undefined ? null : `${(v * 100).toFixed(1)}%`);
    printTable(out, report, ['id', 'function', 'state', 'in flight', 'cpu', 'memory', 'io', 'score', 'saturated'], report.instances.map((i) => [
      i.id, i.functionName, i.state, `${i.inFlight}/${i.concurrency}`, pct(i.ema?.cpu), pct(i.ema?.memory), pct(i.ema?.io), i.score.toFixed(3), i.saturated,
    ]));
  });

  return [exec as unknown as Command, vms as unknown as Command];
}
