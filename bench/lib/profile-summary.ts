// Summarises a V8 .cpuprofile by platform component: each sample is charged to the nearest frame on its
// stack that belongs to a component (packages/server/src/<component>/, or a library standing for one),
// and split by whether the sample was in that frame itself (its JS and the native calls it makes directly,
// e.g. a SQLite statement) or below it (Node's own JavaScript: node:http, streams, socket writes). Idle is left out.
// Usage: node bench/lib/profile-summary.ts <file.cpuprofile> [fromMs toMs]  (window relative to the profile's start)
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LIBRARIES: Array<[RegExp, string]> = [
  [/node_modules\/(kysely)\//, 'store'],
  [/node_modules\/@prometheus-io\//, 'metrics'],
  [/node_modules\/(fastify|@fastify|avvio|find-my-way|fast-json-stringify|light-my-request)\//, 'api'],
  [/node_modules\/pino/, 'logging'],
];

function componentOf(url: string): string | undefined {
  const own = /packages\/server\/src\/([^/]+)\//.exec(url);
  if (own !== null) return own[1];
  for (const [re, name] of LIBRARIES) if (re.test(url)) return name;
  return undefined;
}

export interface ProfileRow {
  component: string;
  /** Share of the busy (non-idle) samples. */
  share: number;
  /** Of that, the share spent in the component's own frames (not below them). */
  ownJs: number;
}

export function summariseProfile(profile: Profile, window?: { fromMs: number; toMs: number }): { busyMs: number; rows: ProfileRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const charged = new Map<number, { component: string; own: boolean }>();
  const chargeOf = (id: number) => {
    let found = charged.get(id);
    if (found !== undefined) return found;
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(garbage collector)') found = { component: 'garbage collection', own: true };
    else if (leaf.functionName === '(program)') found = { component: 'V8 / native, no JS frame', own: true };
    else {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const component = componentOf(byId.get(cur)!.callFrame.url);
        if (component !== undefined) {
          found = { component, own: cur === id };
          break;
        }
      }
      found ??= { component: 'Node internals (HTTP parsing, sockets, timers) with no platform frame', own: false };
    }
    charged.set(id, found);
    return found;
  };
  const totals = new Map<string, { us: number; own: number }>();
  let busy = 0;
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (window !== undefined && (t < window.fromMs * 1000 || t > window.toMs * 1000)) continue;
    const node = byId.get(profile.samples[i])!;
    if (node.callFrame.functionName === '(idle)') continue;
    const dt = profile.timeDeltas[i];
    const { component, own } = chargeOf(node.id);
    const entry = totals.get(component) ?? { us: 0, own: 0 };
    entry.us += dt;
    if (own) entry.own += dt;
    totals.set(component, entry);
    busy += dt;
  }
  const rows = [...totals].map(([component, e]) => ({ component, share: e.us / busy, ownJs: e.own / Math.max(1, e.us) })).sort((a, b) => b.share - a.share);
  return { busyMs: busy / 1000, rows };
}

/** The profile's span in ms (for choosing a window from its end). */
export const profileSpanMs = (profile: Profile): number => profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;

if (import.meta.main) {
  const [file, from, to] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const { busyMs, rows } = summariseProfile(profile, from === undefined ? undefined : { fromMs: Number(from), toMs: Number(to) });
  console.log(`busy ${busyMs.toFixed(0)} ms`);
  for (const r of rows) console.log(`${(r.share * 100).toFixed(1).padStart(5)} %  ${r.component}  (own JS ${(r.ownJs * 100).toFixed(0)} %)`);
}
