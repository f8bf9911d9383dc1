import { Command, Option } from '@commander-js/extra-typings';
import { promises as fs } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { SkyscaleError, type FunctionSettings, type Runtime } from '@skyscale/client';
import { contextOf, findFunction } from '../context.ts';
import { packDirectory } from '../pack.ts';
import { ago, printJson, printRecord, printTable } from '../output.ts';
import { describeRoutes, parseRoute, ROUTE_SYNTAX } from './routes.ts';

const RUNTIMES = ['node', 'python', 'php', 'wasm', 'command'] as const;

const collect = (value: string, previous: string[]) => [...previous, value];

function parseEnv(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new SkyscaleError(0, 'USAGE', `--env takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

const int = (value: string) => {
  if (!/^\d+$/.test(value)) throw new SkyscaleError(0, 'USAGE', `"${value}" is not a whole number`);
  return Number(value);
};

/** --data '{"a":1}' or --data @event.json; without it the event is {} (handlers read fields of it). */
export async function readData(data: string | undefined): Promise<unknown> {
  if (data === undefined) return {};
  const text = data.startsWith('@') ? await fs.readFile(data.slice(1), 'utf8') : data;
  try {
    return JSON.parse(text);
  } catch {
    throw new SkyscaleError(0, 'USAGE', '--data must be JSON (or @file holding JSON)');
  }
}

const functionRow = (f: { name: string; runtime: string; version: number; memoryMb: number; timeoutMs: number; id: string; updatedAt: string }) =>
  [f.name, f.runtime, f.version, `${f.memoryMb} MB`, `${f.timeoutMs} ms`, f.id, ago(f.updatedAt)];

export function functionCommands(): Command {
  const fn = new Command('fn').description('Deploy and manage functions');

  fn.command('deploy')
    .description('Deploy a file or a directory as a function (a new version if it exists)')
    .argument('<path>', 'a file (inline code) or a directory (uploaded as a .tar.gz bundle)')
    .requiredOption('-n, --name <name>', 'function name')
    .addOption(new Option('-r, --runtime <runtime>', 'runtime').choices(RUNTIMES))
    .option('--handler <handler>', 'entry point, e.g. index.handler or main.handler')
    .option('--memory <mb>', 'memory limit in MB', int)
    .option('--cpu-quota <percent>', 'CPU of each instance in percent of one core (default: derived from the memory)', int)
    .option('--timeout <ms>', 'timeout in milliseconds', int)
    .option('--concurrency <n>', 'invocations one instance serves at once', int)
    .option('--max-instances <n>', 'most instances at once', int)
    .option('--max-attempts <n>', 'attempts for async invocations', int)
    .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect, [] as string[])
    .option('-s, --secret <name>', 'a secret to inject as an upper-cased env var (repeatable)', collect, [] as string[])
    .option('--stream-min-free <n>', 'idle stream instances kept ready while the function is streamed to', int)
    .option('--stream-idle-timeout <ms>', 'stop a stream instance idle this long', int)
    .option(`--route <${ROUTE_SYNTAX}>`, 'an HTTP route on the gateway, e.g. "POST /api/hello" (repeatable; replaces the routes)', collect, [] as string[])
    .addOption(new Option('--event-shape <shape>', 'what the gateway sends the function: http (the request) or body (its JSON body)').choices(['http', 'body'] as const))
    .option('--clear-routes', 'remove all routes of the function')
    .option('--public', 'anyone may call it at /function/<name> on the gateway')
    .option('--no-public', 'only you (with your API key) may call it at /function/<name>')
    .action(async (target, opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const settings: FunctionSettings = {
        runtime: opts.runtime as Runtime | undefined,
        handler: opts.handler,
        memoryMb: opts.memory,
        cpuQuotaPercent: opts.cpuQuota,
        timeoutMs: opts.timeout,
        concurrency: opts.concurrency,
        maxInstances: opts.maxInstances,
        maxAttempts: opts.maxAttempts,
        env: parseEnv(opts.env),
        secrets: opts.secret.length > 0 ? opts.secret : undefined,
        stream: opts.streamMinFree === undefined && opts.streamIdleTimeout === undefined ? undefined : { minFree: opts.streamMinFree, idleTimeoutMs: opts.streamIdleTimeout },
        routes: opts.clearRoutes === true ? [] : opts.route.length > 0 ? opts.route.map(parseRoute) : undefined,
        eventShape: opts.eventShape,
        public: opts.public,
      };
      if (opts.clearRoutes === true && opts.route.length > 0) throw new SkyscaleError(0, 'USAGE', '--clear-routes and --route do not go together');
      const existing = await client.getFunctionByName(opts.name).catch((err: unknown) => {
        if (err instanceof SkyscaleError && err.status === 404) return undefined;
        throw err;
      });
      if (existing === undefined && settings.runtime === undefined) throw new SkyscaleError(0, 'USAGE', '--runtime is required for a new function');
      const stat = await fs.stat(target);
      let result;
      if (stat.isDirectory()) {
        const bundle = await packDirectory(target);
        result = existing === undefined
          ? await client.deployBundle({ ...settings, name: opts.name }, bundle)
          : await client.updateFunctionBundle(existing.id, settings, bundle);
      } else {
        const filename = path.basename(target);
        const bytes = await fs.readFile(target);
        // Text goes as inline code with its filename, from which the server derives the handler
        // (chat.js → chat.handler, run.sh → run.sh); a binary (a .wasm module, an executable) as a base64 file.
        const text = isUtf8(bytes) && !bytes.includes(0);
        const code = text ? { code: bytes.toString('utf8'), filename } : { files: { [filename]: { content: bytes.toString('base64'), encoding: 'base64' as const } } };
        // A file map names no entry: a command or wasm function runs the binary it is given, whatever its name.
        const runtime = settings.runtime ?? existing?.runtime;
        if (!text && settings.handler === undefined && (runtime === 'command' || runtime === 'wasm')) settings.handler = filename;
        const deploy = { ...settings, ...code };
        result = existing === undefined ? await client.createFunction({ ...deploy, name: opts.name }) : await client.updateFunction(existing.id, deploy);
      }
      if (out.json) return printJson(result);
      process.stdout.write(`Deployed ${result.name} version ${result.version} (${result.runtime}, ${result.codeSize} bytes, id ${result.id})\n`);
      if (result.routes.length > 0) process.stdout.write(`Routes: ${describeRoutes(result.routes)}\n`);
      if (result.public) process.stdout.write(`Public at /function/${result.name} on the gateway\n`);
    });

  fn.command('list').description('List your functions').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listFunctions();
    printTable(out, items, ['name', 'runtime', 'version', 'memory', 'timeout', 'id', 'updated'], items.map(functionRow));
  });

  fn.command('get').description('Show a function').argument('<name|id>').action(async (ref, _opts, cmd) => {
    const { client, out } = contextOf(cmd);
    printRecord(out, { ...(await findFunction(client, ref)) });
  });

  fn.command('versions').description("List a function's versions").argument('<name|id>').action(async (ref, _opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listVersions((await findFunction(client, ref)).id);
    printTable(out, items, ['version', 'runtime', 'handler', 'memory', 'code', 'created'], items.map((v) => [v.version, v.runtime, v.handler, `${v.memoryMb} MB`, v.codeHash.slice(0, 12), ago(v.createdAt)]));
  });

  fn.command('rm').description('Delete a function and all its versions').argument('<name|id>').action(async (ref, _opts, cmd) => {
    const { client } = contextOf(cmd);
    const found = await findFunction(client, ref);
    await client.deleteFunction(found.id);
    process.stdout.write(`Deleted ${found.name}\n`);
  });

  fn.command('invoke')
    .description('Invoke a function and print its result (or queue it with --async)')
    .argument('<name|id>')
    .option('-d, --data <json|@file>', 'the event, as JSON or @file (default: {})')
    .option('--async', 'queue the invocation and print its execution id')
    .action(async (ref, opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const found = await findFunction(client, ref);
      const event = await readData(opts.data);
      if (opts.async === true) {
        const queued = await client.invokeAsync({ id: found.id }, event);
        if (out.json) return printJson(queued);
        process.stdout.write(`${queued.id}\n`);
        return;
      }
      const execution = await client.invoke({ id: found.id }, event);
      if (out.json) return printJson(execution);
      if (execution.status === 'succeeded') {
        process.stdout.write(JSON.stringify(execution.result, null, 2) + '\n');
        return;
      }
      process.stderr.write(`error: ${execution.status}: ${execution.error?.message ?? 'failed'} (execution ${execution.id})\n`);
      process.exitCode = 1;
    });

  return fn;
}
