import { Command } from '@commander-js/extra-typings';
import { createInterface } from 'node:readline';
import { clearCredentials, configPath, readConfigFile, writeConfigFile } from '../config.ts';
import { contextOf } from '../context.ts';
import { ago, printRecord, printTable } from '../output.ts';

/** Reads a password from --password, else from piped stdin, else from the terminal without echo. */
async function readPassword(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.replace(/\r?\n$/, '');
  }
  process.stderr.write('Password: ');
  const rl = createInterface({ input: process.stdin, terminal: true });
  (rl as unknown as { _writeToOutput: () => void })._writeToOutput = () => {};
  const password = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return password;
}

export function accountCommands(): Command[] {
  const register = new Command('register')
    .description('Create a user (the first one becomes admin)')
    .requiredOption('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password (else read from stdin or prompted)')
    .action(async (opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const user = await client.register(opts.username, await readPassword(opts.password));
      printRecord(out, { ...user });
    });

  const login = new Command('login')
    .description('Log in and save the session token in the config file')
    .requiredOption('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password (else read from stdin or prompted)')
    .action(async (opts, cmd) => {
      const { client, out, endpoint } = contextOf(cmd);
      const session = await client.login(opts.username, await readPassword(opts.password));
      writeConfigFile({ ...readConfigFile(), endpoint, token: session.token });
      if (out.json) printRecord(out, { ...session });
      else process.stdout.write(`Logged in as ${opts.username} until ${session.expiresAt} (saved to ${configPath()})\n`);
    });

  const logout = new Command('logout').description('Forget the saved token and API key').action(() => {
    clearCredentials();
    process.stdout.write('Logged out\n');
  });

  const whoami = new Command('whoami').description('Show the authenticated user').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    printRecord(out, { ...(await client.me()) });
  });

  const keys = new Command('keys').description('Manage API keys');
  keys.command('create')
    .description('Create an API key (shown once)')
    .option('-n, --name <name>', 'a label for the key')
    .option('--save', 'save the key in the config file for later commands')
    .action(async (opts, cmd) => {
      const { client, out, endpoint } = contextOf(cmd);
      const key = await client.createApiKey(opts.name);
      if (opts.save === true) writeConfigFile({ ...readConfigFile(), endpoint, apiKey: key.key });
      if (out.json) return printRecord(out, { ...key });
      process.stdout.write(`${key.key}\n`);
      process.stderr.write(`API key "${key.name}" (${key.id}) created. It is shown only once${opts.save ? '; saved to the config file' : ''}.\n`);
    });
  keys.command('list').description('List your API keys').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listApiKeys();
    printTable(out, items, ['id', 'name', 'prefix', 'created', 'last used'], items.map((k) => [k.id, k.name, k.prefix + '…', ago(k.createdAt), ago(k.lastUsedAt)]));
  });
  keys.command('revoke').description('Revoke an API key').argument('<id>', 'key id').action(async (id, _opts, cmd) => {
    const { client } = contextOf(cmd);
    await client.revokeApiKey(id);
    process.stdout.write(`Revoked ${id}\n`);
  });

  return [register, login, logout, whoami, keys as unknown as Command];
}
