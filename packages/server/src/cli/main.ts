import { Command } from '@commander-js/extra-typings';
import { SkyscaleError } from '@skyscale/client';
import { accountCommands } from './commands/account.ts';
import { functionCommands } from './commands/functions.ts';
import { executionCommands } from './commands/executions.ts';
import { secretCommands } from './commands/secrets.ts';
import { objectCommands } from './commands/objects.ts';
import { streamCommand } from './commands/stream.ts';
import { routeCommands } from './commands/routes.ts';
import { workerCommands } from './commands/workers.ts';

export function buildProgram(): Command {
  const program = new Command('skyscale')
    .description('Skyscale: a self-hosted serverless platform')
    .version('0.1.0')
    .option('--endpoint <url>', 'API endpoint (default $SKYSCALE_ENDPOINT, the config file, or http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key (default $SKYSCALE_API_KEY or the config file)')
    .option('--json', 'print the API\'s JSON instead of tables')
    .showHelpAfterError()
    .exitOverride();

  program.command('serve')
    .description('Run the platform in this process (configured by environment variables; see README)')
    .option('--role <roles>', 'run only these roles: control, gateway, worker (comma-separated or repeated; default $SKYSCALE_ROLES, else all of them embedded)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .action(async (options) => {
      const { loadConfig, ConfigError } = await import('../config/config.ts');
      let config;
      try {
        config = loadConfig(process.env, { roles: options.role });
      } catch (err) {
        if (err instanceof ConfigError) throw new SkyscaleError(0, 'CONFIG', err.message);
        throw err;
      }
      const { startPlatform } = await import('../main.ts');
      const { serveUntilStopped } = await import('./serve.ts');
      // A stop during start-up (waiting for PostgreSQL or NATS) aborts the waiting.
      const starting = new AbortController();
      await serveUntilStopped(() => startPlatform(config, undefined, starting.signal), { onStop: () => starting.abort() });
    });

  for (const command of accountCommands()) program.addCommand(command as never);
  program.addCommand(functionCommands() as never);
  for (const command of executionCommands()) program.addCommand(command as never);
  program.addCommand(secretCommands() as never);
  program.addCommand(objectCommands() as never);
  program.addCommand(streamCommand() as never);
  program.addCommand(routeCommands() as never);
  program.addCommand(workerCommands() as never);
  // Subcommands added with addCommand() do not inherit these; without them a usage error exits 1 directly.
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError();
    for (const sub of command.commands) configure(sub as unknown as Command);
  };
  configure(program as unknown as Command);
  return program as unknown as Command;
}

export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      const exit = (err as { exitCode?: number }).exitCode ?? 2;
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : exit === 0 ? 0 : 2;
      return;
    }
    if (err instanceof SkyscaleError) {
      process.stderr.write(`error: ${err.code}: ${err.message}\n`);
      process.exitCode = err.code === 'USAGE' ? 2 : 1;
      return;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
