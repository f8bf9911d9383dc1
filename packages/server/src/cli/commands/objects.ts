import { Command } from '@commander-js/extra-typings';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { contextOf, findFunction } from '../context.ts';
import { ago, printRecord, printTable } from '../output.ts';

const TYPES: Record<string, string> = { '.json': 'application/json', '.txt': 'text/plain', '.csv': 'text/csv', '.html': 'text/html', '.png': 'image/png', '.jpg': 'image/jpeg', '.pdf': 'application/pdf' };

export function objectCommands(): Command {
  const objects = new Command('objects').description("Manage a function's objects (readable from inside it via API_BASE_URL)");

  objects.command('put')
    .description('Upload a file as an object')
    .argument('<function>', 'function name or id')
    .argument('<file>', 'the file to upload')
    .option('-n, --name <name>', 'object name (default: the file name)')
    .option('-t, --type <content-type>', 'content type (default: from the extension)')
    .action(async (fnRef, file, opts, cmd) => {
      const { client, out } = contextOf(cmd);
      const fn = await findFunction(client, fnRef);
      const data = await fs.readFile(file);
      const meta = await client.putObject(fn.id, opts.name ?? path.basename(file), data, opts.type ?? TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
      if (out.json) return printRecord(out, { ...meta });
      process.stdout.write(`Stored ${meta.name} (${meta.size} bytes, ${meta.checksum})\n`);
    });

  objects.command('get')
    .description('Download an object (to stdout, or to --output)')
    .argument('<function>')
    .argument('<name>')
    .option('-o, --output <file>', 'write to this file')
    .action(async (fnRef, name, opts, cmd) => {
      const { client } = contextOf(cmd);
      const fn = await findFunction(client, fnRef);
      const bytes = await client.getObject(fn.id, name);
      if (opts.output !== undefined) await fs.writeFile(opts.output, bytes);
      else process.stdout.write(bytes);
    });

  objects.command('list').description("List a function's objects").argument('<function>').action(async (fnRef, _opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const fn = await findFunction(client, fnRef);
    const items = await client.listObjects(fn.id);
    printTable(out, items, ['name', 'size', 'type', 'checksum', 'updated'], items.map((o) => [o.name, o.size, o.contentType, o.checksum.slice(0, 19) + '…', ago(o.updatedAt)]));
  });

  objects.command('rm').description('Delete an object').argument('<function>').argument('<name>').action(async (fnRef, name, _opts, cmd) => {
    const { client } = contextOf(cmd);
    const fn = await findFunction(client, fnRef);
    await client.deleteObject(fn.id, name);
    process.stdout.write(`Deleted ${name}\n`);
  });

  return objects as unknown as Command;
}
