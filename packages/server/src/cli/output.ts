import Table from 'cli-table3';

export interface Output {
  json: boolean;
}

/** Machine output is exactly the API's JSON; human output is a table or key/value lines. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function renderTable(columns: string[], rows: Array<Array<string | number | boolean | null | undefined>>): string {
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  return table.toString();
}

export function printTable(out: Output, value: unknown, columns: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  if (out.json) return printJson(value);
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  process.stdout.write(renderTable(columns, rows) + '\n');
}

export function printRecord(out: Output, value: Record<string, unknown>, keys?: string[]): void {
  if (out.json) return printJson(value);
  const width = Math.max(...(keys ?? Object.keys(value)).map((k) => k.length));
  for (const key of keys ?? Object.keys(value)) {
    const v = value[key];
    const text = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v ?? '-');
    process.stdout.write(`${key.padEnd(width)}  ${text}\n`);
  }
}

export const ago = (iso: string | null | undefined): string => {
  if (!iso) return '-';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
};
