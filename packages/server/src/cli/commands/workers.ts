import { Command } from '@commander-js/extra-typings';
import { contextOf } from '../context.ts';
import { ago, printTable } from '../output.ts';

export function workerCommands(): Command {
  const workers = new Command('workers').description('The workers of the cluster (admins only)');

  workers.command('list').description('List the workers from their heartbeats: state, load, capacity, what they run').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listWorkers();
    printTable(out, { workers: items }, ['id', 'roles', 'state', 'load', 'capacity', 'in-flight', 'instances', 'last heartbeat'], items.map((w) => [
      w.id,
      w.roles.join(','),
      w.state,
      `${w.load.score.toFixed(2)}${w.load.saturated ? ' (saturated)' : ''}`,
      `${w.capacity.maxConcurrentExecutions} exec / ${w.capacity.maxInstances} inst`,
      w.queued > 0 ? `${w.inFlight} (+${w.queued} queued)` : w.inFlight,
      w.instances,
      ago(w.lastHeartbeatAt),
    ]));
  });

  return workers as unknown as Command;
}
