/**
 * Conformance fixtures for the php, command and wasm runtimes. PHP: one module, one function per
 * behaviour (like fixtures.ts). Command: one entry file per behaviour. WASM: one module per behaviour,
 * written in WebAssembly text and compiled with wabt when the suite starts.
 */
import wabtInit from 'wabt';

export const PHP_FIXTURE = String.raw`<?php
$counter = 0;

function hello($event, $context) {
    echo "hello ", json_encode($event), "\n";
    fwrite(STDERR, "a line on stderr\n");
    $context->log('via context.log', 42);
    return [
        'echo' => $event,
        'context' => ['executionId' => $context->executionId, 'functionName' => $context->functionName, 'functionVersion' => $context->functionVersion, 'deadline' => $context->deadline, 'remaining' => $context->getRemainingTimeInMillis()],
    ];
}

function counter($event, $context) {
    global $counter;
    return ++$counter;
}

function deepInUserCode() {
    throw new InvalidArgumentException('boom-from-user');
}

function boom($event, $context) {
    deepInUserCode();
}

function tagged($event, $context) {
    echo 'log-' . $event['tag'] . "\n";
    return $event['tag'];
}

function notSerialisable($event, $context) {
    return NAN;
}

function env($event, $context) {
    return getenv();
}

function connect($event, $context) {
    $socket = @stream_socket_client('tcp://127.0.0.1:' . $event['port'], $errno, $error, 2);
    if ($socket === false) return 'error:' . $errno;
    fclose($socket);
    return 'connected';
}

function fileAccess($event, $context) {
    $try = fn ($f) => ($r = @$f()) === false ? 'error:' . (error_get_last()['message'] ?? '?') : $r;
    return [
        'shadow' => $try(fn () => file_get_contents('/etc/shadow')),
        'canary' => $try(fn () => file_get_contents($event['canaryFile'])),
        'writeCode' => $try(fn () => file_put_contents('/code/planted.txt', 'x')),
        'writeTmp' => $try(fn () => file_put_contents('/tmp/planted.txt', 'x')),
    ];
}

function fds($event, $context) {
    $open = [];
    foreach (scandir('/proc/self/fd') as $fd) if (is_numeric($fd)) $open[$fd] = @readlink("/proc/self/fd/{$fd}");
    return $open;
}

function memoryLimit($event, $context) {
    return ini_get('memory_limit');
}

function quit($event, $context) {
    echo "bye\n";
    exit(3);
}

function fatal($event, $context) {
    eval('function strlen() {}');
}

function memoryBomb($event, $context) {
    $keep = [];
    while (true) $keep[] = str_repeat('m', 8 << 20);
}

function busyLoop($event, $context) {
    while (true) {}
}

function flood($event, $context) {
    $chunk = str_repeat('f', 1 << 20);
    for ($i = 0; $i < $event['mb']; $i++) echo $chunk;
    return 'finished';
}
`;

export const BROKEN_PHP_MODULE = '<?php\nfunction handler($event, $context {\n';

const PY_HELLO = String.raw`import json, os, sys
data = json.loads(sys.argv[1])
print("to stderr", file=sys.stderr)
print(json.dumps({"argv1": data, "stdin": json.loads(sys.stdin.read()), "cwd": os.getcwd(), "greeting": os.environ.get("GREETING")}))
`;

/** Entry files of the command fixture; the handler names one. */
export const COMMAND_FIXTURE: Record<string, string> = {
  'hello.py': PY_HELLO,
  'raw.py': 'import json, sys\nprint(json.dumps({"argv1": sys.argv[1], "stdin": sys.stdin.read()}))\n',
  'hello.sh': '#!/bin/sh -e\necho "log-$(echo "$1" | tr -dc a-z)" >&2\necho "$1"\n',
  'env-shebang': '#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps({"python": sys.version_info[0], "in": json.loads(sys.argv[1])}))\n',
  'script.js': 'console.log(JSON.stringify({ node: process.version, in: JSON.parse(process.argv[2]) }));\n',
  'script.php': '<?php echo json_encode(["php" => PHP_VERSION, "in" => json_decode($argv[1], true)]);\n',
  'pid.sh': '#!/bin/sh\necho "{\\"pid\\": $$}"\n',
  'error.sh': '#!/bin/sh\necho \'{"error": "boom-from-user"}\'\nexit 1\n',
  'exit.sh': '#!/bin/sh\necho "something went wrong" >&2\nexit 3\n',
  'segv.sh': '#!/bin/sh\nkill -SEGV $$\n',
  'notjson.sh': '#!/bin/sh\necho "plain words"\n',
  'progress.sh': '#!/bin/sh\necho "step 1"\necho "step 2"\necho \'{"done": true}\'\n',
  'leftovers.sh': '#!/bin/sh\nsleep 60 &\nsetsid sleep 60 &\n(trap "" HUP TERM; sleep 60) > /dev/null 2>&1 &\necho \'{"started": 3}\'\n',
  'env.py': 'import json, os\nprint(json.dumps(dict(os.environ)))\n',
  'fds.py': 'import json, os\nprint(json.dumps(sorted(int(fd) for fd in os.listdir("/proc/self/fd"))))\n',
  'connect.py': 'import json, socket, sys\ntry:\n    socket.create_connection(("127.0.0.1", json.loads(sys.argv[1])["port"]), timeout=2).close()\n    print(json.dumps("connected"))\nexcept OSError as exc:\n    print(json.dumps("error:" + type(exc).__name__))\n',
  'files.sh': '#!/bin/sh\nshadow=$(cat /etc/shadow 2>&1 | head -c 80)\nif echo x > /code/planted.txt 2>/dev/null; then code=wrote; else code=refused; fi\nif echo x > /tmp/planted.txt; then tmp=wrote; else tmp=refused; fi\nprintf \'{"shadow": "%s", "code": "%s", "tmp": "%s"}\\n\' "$(echo "$shadow" | tr -d \'"\\\\\')" "$code" "$tmp"\n',
  'forkbomb.py': 'import json, os, time\nforked = failed = 0\nfor _ in range(300):\n    try:\n        pid = os.fork()\n    except OSError:\n        failed += 1\n        continue\n    if pid == 0:\n        time.sleep(120)\n        os._exit(0)\n    forked += 1\nprint(json.dumps({"forked": forked, "failed": failed}))\n',
  'membomb.py': 'keep = []\nwhile True:\n    keep.append(bytearray(16 * 1024 * 1024))\n',
  'sleep.sh': '#!/bin/sh\nsleep 60\n',
  'flood.py': 'import sys\nchunk = "c" * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\n',
  'no-interpreter': '#!/nonexistent/interpreter\n',
  'data.bin': 'just bytes, no shebang, no known extension\n',
};

/** Reads stdin into memory at 1024 and writes it back to stdout; logs a line on stderr. */
const WAT_ECHO = String.raw`(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 64) "echo-wasm\n")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr)) (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16))))
  (func (export "_start") (local $len i32) (local $n i32)
    (call $write (i32.const 2) (i32.const 64) (i32.const 10))
    (loop $more
      (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $len)))
      (i32.store (i32.const 4) (i32.sub (i32.const 64512) (local.get $len)))
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $n (i32.load (i32.const 16)))
      (local.set $len (i32.add (local.get $len) (local.get $n)))
      (br_if $more (i32.ne (local.get $n) (i32.const 0))))
    (call $write (i32.const 1) (i32.const 1024) (local.get $len))))`;

/** Writes a constant string to stdout, optionally after a prelude of instructions. */
function watPrint(text: string, prelude = '', locals = ''): string {
  const bytes = Buffer.from(text);
  const escaped = [...bytes].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  return String.raw`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "${escaped}")
  (func (export "_start") ${locals}
    ${prelude}
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const ${bytes.length}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))`;
}

/**
 * A module with an exported handler (a WASI reactor), kept warm: answers {"init":1,"calls":N,"input":<input>}
 * with N counting calls on this instance. Input null reports an error, "trap…" traps, "exit…" calls proc_exit.
 */
const WAT_REACTOR = String.raw`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (global $init (mut i32) (i32.const 0))
  (data (i32.const 64) "reactor-log\n")
  (data (i32.const 96) "{\"error\":\"null input\"}")
  (data (i32.const 128) "{\"init\":0,\"calls\":0,\"input\":")
  (func (export "_initialize") (global.set $init (i32.const 1)))
  (func (export "alloc") (param $len i32) (result i32) (i32.const 4096))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 110))
      (then (return (i64.or (i64.shl (i64.const 96) (i64.const 32)) (i64.const 22)))))
    (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (i32.const 1))) (i32.const 116)) (then unreachable))
    (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (i32.const 1))) (i32.const 101)) (then (call $proc_exit (i32.const 2))))
    (memory.copy (i32.const 2048) (i32.const 128) (i32.const 28))
    (i32.store8 (i32.const 2056) (i32.add (i32.const 48) (global.get $init)))
    (i32.store8 (i32.const 2066) (i32.add (i32.const 48) (global.get $calls)))
    (memory.copy (i32.const 2076) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.const 2076) (local.get $len)) (i32.const 125))
    (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.extend_i32_u (i32.add (local.get $len) (i32.const 29))))))`;

const WAT_SOURCES: Record<string, string> = {
  'echo.wasm': WAT_ECHO,
  'reactor.wasm': WAT_REACTOR,
  // handle without alloc: refused at load.
  'no-alloc.wasm': '(module (memory (export "memory") 1) (func (export "handle") (param i32 i32) (result i64) (i64.const 0)))',
  // handle returning a result outside its memory.
  'bad-result.wasm': '(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) (i32.const 0)) (func (export "handle") (param i32 i32) (result i64) (i64.const 0x7fff000000000010)))',
  // A global that counts runs: a fresh instance per invocation always prints 1.
  'counter.wasm': String.raw`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $runs (mut i32) (i32.const 48))
  (func (export "_start")
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    (i32.store8 (i32.const 64) (global.get $runs))
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))`,
  'error.wasm': watPrint('{"error": "boom-from-user"}\n'),
  'notjson.wasm': watPrint('plain words\n'),
  'exit3.wasm': watPrint('', '(call $proc_exit (i32.const 3))'),
  'trap.wasm': watPrint('', 'unreachable'),
  'loop.wasm': watPrint('', '(loop $forever (br $forever))'),
  // Grows its memory by 16 MiB at a time and touches every page: the instance's memory limit must stop it.
  'grow.wasm': watPrint(
    '',
    String.raw`(loop $grow
      (local.set $p (i32.mul (memory.size) (i32.const 65536)))
      (br_if 1 (i32.eq (memory.grow (i32.const 256)) (i32.const -1)))
      (local.set $end (i32.mul (memory.size) (i32.const 65536)))
      (loop $touch
        (i32.store (local.get $p) (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 4096)))
        (br_if $touch (i32.lt_u (local.get $p) (local.get $end))))
      (br $grow))`,
    '(local $p i32) (local $end i32)',
  ),
  // Writes the same 64 KiB of memory to stdout forever.
  'flood.wasm': watPrint('', String.raw`(loop $forever
      (i32.store (i32.const 0) (i32.const 0)) (i32.store (i32.const 4) (i32.const 65536))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br $forever))`),
};

/** Compiles the WAT fixtures; also used to check that examples/hello-wasm/main.wasm is its source's build. */
export async function compileWat(sources: Record<string, string>): Promise<Record<string, Buffer>> {
  const wabt = await wabtInit();
  const out: Record<string, Buffer> = {};
  for (const [name, source] of Object.entries(sources)) {
    const module = wabt.parseWat(name, source);
    try {
      out[name] = Buffer.from(module.toBinary({}).buffer);
    } finally {
      module.destroy();
    }
  }
  return out;
}

export function wasmFixture(): Promise<Record<string, Buffer>> {
  return compileWat(WAT_SOURCES);
}
