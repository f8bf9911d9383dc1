import { Command } from '@commander-js/extra-typings';
import { SkyscaleError } from '@skyscale/client';
import { contextOf } from '../context.ts';
import { ago, printRecord, printTable } from '../output.ts';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

export function secretCommands(): Command {
  const secrets = new Command('secrets').description('Manage secrets (injected into functions that declare them)');

  secrets.command('set')
    .description('Create or replace a secret; the value comes from the argument or, without one, from stdin')
    .argument('<name>', 'e.g. database_url (becomes DATABASE_URL in the function)')
    .argument('[value]', 'the value (prefer stdin: arguments end up in shell history)')
    .action(async (name, value, _opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const secretValue = value ?? (await readStdin());
      const existing = (await client.listSecrets()).find((s) => s.name.toLowerCase() === name.toLowerCase());
      const meta = existing === undefined ? await client.createSecret(name, secretValue) : await client.updateSecret(existing.id, secretValue);
      if (out.json) return printRecord(out, { ...meta });
      process.stdout.write(`${existing === undefined ? 'Created' : 'Updated'} secret ${meta.name}\n`);
    });

  secrets.command('list').description('List your secrets (names only)').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listSecrets();
    printTable(out, items, ['name', 'id', 'updated'], items.map((s) => [s.name, s.id, ago(s.updatedAt)]));
  });

  secrets.command('rm').description('Delete a secret').argument('<name>').action(async (name, _opts, cmd) => {
    const { client } = contextOf(cmd);
    const found = (await client.listSecrets()).find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (found === undefined) throw new SkyscaleError(404, 'NOT_FOUND', `Secret ${name} not found`);
    await client.deleteSecret(found.id);
    process.stdout.write(`Deleted secret ${found.name}\n`);
  });

  return secrets as unknown as Command;
}
