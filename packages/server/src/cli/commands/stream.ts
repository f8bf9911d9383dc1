import { Command } from '@commander-js/extra-typings';
import { createInterface } from 'node:readline';
import { SkyscaleClient, SkyscaleError, type StreamConnection, type WebSocketConstructor } from '@skyscale/client';
import WebSocket from 'ws';
import { resolveConfig } from '../config.ts';
import type { GlobalFlags } from '../context.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `skyscale stream <name>`: stdin lines become messages, the function's messages go to stdout (docs/cli.md). */
export function streamCommand(): Command {
  return new Command('stream')
    .description('Open an interactive WebSocket session with a stream function: stdin lines → messages, messages → stdout')
    .argument('<name>', 'function name (yours with your API key, or a public one)')
    .option('--path <path>', 'sub-path the function sees as context.request.path', '/')
    .option('-q, --query <key=value>', 'query parameter for the function (repeatable)', collect, [] as string[])
    .option('--gateway <url>', 'the gateway, where streams are served (default $SKYSCALE_GATEWAY, else the endpoint\'s host on port 8081)')
    .option('--linger <ms>', 'after stdin ends, keep printing replies until none came for this long, then close', '500')
    .action(async (name, opts, cmd) => {
      const flags = cmd.optsWithGlobals() as GlobalFlags;
      const config = resolveConfig(flags);
      const client = new SkyscaleClient({
        endpoint: config.endpoint,
        apiKey: config.apiKey,
        gatewayEndpoint: opts.gateway ?? (process.env.SKYSCALE_GATEWAY || undefined),
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });
      const query: Record<string, string> = {};
      for (const pair of opts.query) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new SkyscaleError(0, 'USAGE', `--query takes key=value, got "${pair}"`);
        query[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      const linger = Number(opts.linger);
      if (!Number.isFinite(linger) || linger < 0) throw new SkyscaleError(0, 'USAGE', '--linger takes a number of milliseconds');
      const stream = await client.openStream(name, { path: opts.path, query });
      if (process.stderr.isTTY) process.stderr.write(`connected to ${name}${stream.executionId ? ` (execution ${stream.executionId})` : ''}; type messages, Ctrl-D to end\n`);
      await session(stream, linger);
    }) as unknown as Command;
}

async function session(stream: StreamConnection, linger: number): Promise<void> {
  let lastMessage = Date.now();
  const printing = (async () => {
    for await (const message of stream) {
      lastMessage = Date.now();
      if (!process.stdout.write(typeof message === 'string' ? `${message}\n` : Buffer.concat([message, Buffer.from('\n')]))) {
        await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
    }
  })();
  const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const closed = stream.closed.then((c) => {
    input.close();
    return c;
  });
  for await (const line of input) {
    stream.send(line);
    await stream.drain();
  }
  // stdin ended: replies may still be on their way.
  let open = true;
  void closed.then(() => (open = false));
  while (open && Date.now() - lastMessage < linger) await new Promise((resolve) => setTimeout(resolve, Math.max(10, linger / 5)));
  if (open) stream.close(1000, 'stdin ended');
  const { code, reason } = await closed;
  await printing;
  const id = stream.executionId ? ` (execution ${stream.executionId})` : '';
  if (code === 1000 || code === 1005) {
    if (reason !== '' && reason !== 'stdin ended') process.stderr.write(`closed by the function: ${reason}${id}\n`);
    return;
  }
  if (code >= 3000 && code <= 4999) {
    process.stderr.write(`closed by the function with ${code}${reason ? `: ${reason}` : ''}${id}\n`);
    return;
  }
  process.exitCode = 1;
  process.stderr.write(`stream closed with ${code}${reason ? `: ${reason}` : ''}${id}\n`);
}
