/**
 * The README's walkthrough, run as written: every file its bash blocks create (heredocs, `echo … > f`) is
 * written to a scratch directory, every `npx skyscale …` line runs there through the real CLI, and every
 * `# → <json>` result (of `fn invoke`, or of a `curl` to the gateway) and every stream transcript is
 * checked. Lines with shell variables or `<placeholders>`, account setup (done here) and commands naming
 * files the README never creates are left out.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { runCli } from '../helpers/server-process.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const repo = path.resolve(import.meta.dirname, '../../../..');
const SETUP_COMMANDS = new Set(['register', 'login', 'keys']);

interface Words {
  tokens: string[];
  comment?: string;
  /** `$` outside single quotes: the line needs shell variables. */
  variables: boolean;
}

/** Enough of the shell's word splitting for the README: quotes, backslashes, a trailing comment. */
function shellWords(line: string): Words {
  const tokens: string[] = [];
  let word = '';
  let inWord = false;
  let variables = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; line[j] !== '"'; j++) {
        if (line[j] === '\\') j++;
        else if (line[j] === '$') variables = true;
        word += line[j];
      }
      i = j;
      inWord = true;
    } else if (c === '\\') {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) tokens.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      return { tokens, comment: line.slice(i + 1).trim(), variables };
    } else {
      if (c === '$') variables = true;
      word += c;
      inWord = true;
    }
  }
  if (inWord) tokens.push(word);
  return { tokens, variables };
}

/** `# → {"a": 1}  (a remark)`: the JSON object or array before any two-space gap; `# → prose` is no expectation. */
function expectedJson(comment: string | undefined): unknown {
  const text = comment?.startsWith('→') === true ? comment.slice(1).trim().split(/\s{2,}/)[0] : '';
  return /^[[{]/.test(text) ? JSON.parse(text) : undefined;
}

type Step =
  | { kind: 'file'; name: string; content: string }
  | { kind: 'cli'; line: string; args: string[]; input: string; expect?: unknown; transcript?: string[] }
  | { kind: 'curl'; line: string; method: string; url: string; body?: string; headers: Record<string, string>; expect: unknown };

function readmeSteps(readme: string): Step[] {
  const steps: Step[] = [];
  for (const [, block] of readme.matchAll(/```bash\n([\s\S]*?)```/g)) {
    const lines = block.replace(/\\\n\s*/g, '').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const heredoc = /cat > (\S+) <<'(\w+)'/.exec(line);
      if (heredoc !== null) {
        const end = lines.indexOf(heredoc[2], i + 1);
        steps.push({ kind: 'file', name: heredoc[1], content: lines.slice(i + 1, end).join('\n') + '\n' });
        i = end;
        continue;
      }
      const words = shellWords(line);
      const echoed = /^echo '([^']*)' > (\S+)$/.exec(line.trim());
      if (echoed !== null) steps.push({ kind: 'file', name: echoed[2], content: `${echoed[1]}\n` });
      if (words.variables || words.tokens.some((t) => /^<.*>$/.test(t))) continue;
      const at = words.tokens.indexOf('npx');
      if (at !== -1 && words.tokens[at + 1] === 'skyscale') {
        const args = words.tokens.slice(at + 2);
        if (SETUP_COMMANDS.has(args[0])) continue;
        const feed = words.tokens.slice(0, at);
        const input = feed[0] === 'printf' ? feed[1].replace(/\\n/g, '\n') : feed[0] === 'echo' && feed[1] === '-n' ? feed[2] : '';
        const transcript: string[] = [];
        if (args[0] === 'stream') for (let j = i + 1; lines[j]?.startsWith('# '); j++) transcript.push(lines[j].slice(2));
        steps.push({ kind: 'cli', line, args, input, expect: expectedJson(words.comment), transcript: args[0] === 'stream' ? transcript : undefined });
      } else if (words.tokens[0] === 'curl' && words.tokens.some((t) => t.startsWith('localhost:8081')) && expectedJson(words.comment) !== undefined) {
        const option = (flag: string) => words.tokens[words.tokens.indexOf(flag) + 1];
        const headers = Object.fromEntries(words.tokens.flatMap((t, k) => (words.tokens[k - 1] === '-H' ? [t.split(/:\s*/)] : [])));
        const body = words.tokens.includes('-d') ? option('-d') : undefined;
        const url = words.tokens.find((t) => t.startsWith('localhost:8081'))!.slice('localhost:8081'.length);
        // curl -d without a content type sends a form, as this does.
        const sent = body !== undefined && headers['Content-Type'] === undefined ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers;
        steps.push({ kind: 'curl', line, method: words.tokens.includes('-X') ? option('-X') : 'GET', url, body, headers: sent, expect: expectedJson(words.comment) });
      }
    }
  }
  return steps;
}

/** A file argument the README never creates (e.g. `./model.json`): that command is left out. */
const namesMissingFile = (args: string[], dir: string): boolean =>
  args.some((a) => /^(\.\/)?[\w-]+(\/[\w.-]+)*\.[a-z]+$|^\.\//.test(a) && !existsSync(path.join(dir, a)));

describe('the README walkthrough runs as written', { skip: sandboxSkipReason() || (!existsSync('/usr/bin/php') && 'SKIPPED: the README deploys a PHP function; php-cli is not installed') }, () => {
  let p: TestPlatform;
  let work: string;
  let env: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' }, { listen: true });
    const alice = (await p.user('alice')).auth;
    const key = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: alice, payload: {} })).json().key;
    work = mkdtempSync(path.join(tmpdir(), 'skyscale-readme-'));
    symlinkSync(path.join(repo, 'examples'), path.join(work, 'examples'));
    env = { XDG_CONFIG_HOME: path.join(work, '.config'), SKYSCALE_ENDPOINT: `http://127.0.0.1:${p.port}`, SKYSCALE_GATEWAY: p.gatewayUrl, SKYSCALE_API_KEY: key };
  });
  after(async () => {
    await p.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('every one-file deploy, invocation, route and stream of the README', async () => {
    const steps = readmeSteps(readFileSync(path.join(repo, 'README.md'), 'utf8'));
    const deployed = steps.filter((s) => s.kind === 'cli' && s.args[0] === 'fn' && s.args[1] === 'deploy').map((s) => (s as { args: string[] }).args[2]);
    for (const file of ['chat.js', 'main.py', 'api.js', 'index.php', 'count.sh', 'greet.py']) assert.ok(deployed.includes(file), `the README deploys ${file}`);
    let checked = 0;
    for (const step of steps) {
      if (step.kind === 'file') {
        mkdirSync(path.dirname(path.join(work, step.name)), { recursive: true });
        writeFileSync(path.join(work, step.name), step.content);
      } else if (step.kind === 'cli') {
        if (namesMissingFile(step.args, work)) continue;
        const run = await runCli(step.args, env, step.input, { cwd: work });
        assert.equal(run.code, 0, `${step.line}\n${run.stderr}`);
        if (step.expect !== undefined) assert.deepEqual(JSON.parse(run.stdout), step.expect, step.line);
        if (step.transcript !== undefined) assert.deepEqual(run.stdout.trimEnd().split('\n'), step.transcript, step.line);
        if (step.expect !== undefined || step.transcript !== undefined) checked++;
      } else {
        const res = await fetch(p.gatewayUrl + step.url, { method: step.method, headers: step.headers, body: step.body });
        assert.deepEqual(await res.json(), step.expect, step.line);
        checked++;
      }
    }
    assert.ok(checked >= 10, `only ${checked} results were checked: has the README's format changed?`);
  });
});
