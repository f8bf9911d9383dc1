/**
 * Function code the conformance suite deploys: one module per runtime, one export per behaviour
 * (benign ones and attacks). Each test loads the export it needs into a fresh instance.
 */

export const NODE_FIXTURE = String.raw`
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

let counter = 0;

export function hello(event, context) {
  console.log('hello', JSON.stringify(event));
  console.error('a line on stderr');
  context.log('via context.log', 42);
  return {
    echo: event,
    context: { executionId: context.executionId, functionName: context.functionName, functionVersion: context.functionVersion, deadline: context.deadline, remaining: context.getRemainingTimeInMillis() },
  };
}

export const count = () => ++counter;

export async function asyncHello(event) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { async: true, event };
}

function deepInUserCode() {
  throw new TypeError('boom-from-user');
}
export function boom() {
  deepInUserCode();
}

export function strayThrow() {
  return new Promise(() => setTimeout(() => { throw new Error('stray-timer-error'); }, 5));
}

export function tagged(event) {
  console.log('log-' + event.tag);
  return event.tag;
}

export function manyLogs(event) {
  const line = 'x'.repeat(1023);
  for (let i = 0; i < event.kb; i++) console.log(line);
  return 'done';
}

export const bigint = () => 10n;
export const bigResult = (event) => 'z'.repeat(event.bytes);
export const env = () => ({ ...process.env });

function attempt(fn) {
  try {
    const value = fn();
    return value === undefined ? 'ok' : value;
  } catch (err) {
    return 'error:' + (err.code ?? err.message);
  }
}

export function filesystem(event) {
  return {
    shadow: attempt(() => readFileSync('/etc/shadow', 'utf8').slice(0, 20)),
    canary: attempt(() => readFileSync(event.canaryFile, 'utf8')),
    canaryDir: attempt(() => readdirSync(event.canaryDir)),
    rootHome: attempt(() => readdirSync('/root')),
    hostDir: attempt(() => readdirSync(event.hostDir)),
    writeCode: attempt(() => writeFileSync('/code/planted.txt', 'x')),
    writeUsr: attempt(() => writeFileSync('/usr/planted.txt', 'x')),
    writeEtc: attempt(() => writeFileSync('/etc/planted.txt', 'x')),
    writeRoot: attempt(() => writeFileSync('/planted.txt', 'x')),
    writeTmp: attempt(() => writeFileSync('/tmp/planted.txt', 'x')),
    readTmp: attempt(() => readFileSync('/tmp/planted.txt', 'utf8')),
  };
}

export function connect(event) {
  return new Promise((resolve) => {
    const socket = net.connect(event.port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', (err) => resolve('error:' + err.code));
    setTimeout(() => { socket.destroy(); resolve('timeout'); }, 2000);
  });
}

export function signals(event) {
  const visible = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  return { kill: attempt(() => { process.kill(event.hostPid, 'SIGKILL'); return 'signalled'; }), visible, ppid: process.ppid, pid: process.pid };
}

export function memoryBomb() {
  const keep = [];
  for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1));
}

export function heapBomb() {
  const keep = [];
  for (;;) keep.push(new Array(1_000_000).fill({ a: 1 }));
}

export function busyLoop() {
  for (;;) {}
}

export const hang = () => new Promise(() => {});

export function spin(event) {
  const end = Date.now() + event.ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

export function flood(event) {
  const chunk = 'y'.repeat(1024 * 1024);
  for (let i = 0; i < event.mb; i++) process.stdout.write(chunk);
  return 'finished';
}
`;

export const PYTHON_FIXTURE = String.raw`
import asyncio
import os
import socket
import sys
import time

counter = 0


def hello(event, context):
    print("hello", event)
    print("a line on stderr", file=sys.stderr)
    context.log("via context.log", 42)
    return {
        "echo": event,
        "context": {"executionId": context.execution_id, "functionName": context.function_name, "functionVersion": context.function_version, "deadline": context.deadline, "remaining": context.get_remaining_time_in_millis()},
    }


def count(event, context):
    global counter
    counter += 1
    return counter


async def async_hello(event, context):
    await asyncio.sleep(0.02)
    return {"async": True, "event": event}


def deep_in_user_code():
    raise ValueError("boom-from-user")


def boom(event, context):
    deep_in_user_code()


def tagged(event, context):
    print("log-" + event["tag"])
    return event["tag"]


def not_serialisable(event, context):
    return {1, 2, 3}


def env(event, context):
    return dict(os.environ)


def connect(event, context):
    try:
        socket.create_connection(("127.0.0.1", event["port"]), timeout=2).close()
        return "connected"
    except OSError as exc:
        return "error:" + type(exc).__name__


def fds(event, context):
    return sorted(int(fd) for fd in os.listdir("/proc/self/fd"))


def fill_tmp(event, context):
    try:
        with open("/tmp/fill.bin", "wb") as f:
            f.write(b"x" * event["bytes"])
        return "ok"
    except OSError as exc:
        return "error:" + (os.strerror(exc.errno) if exc.errno else str(exc))


def syscalls(event, context):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    results = {}
    for name, number, args in [("getpid", 39, ()), ("keyctl", 250, (0,)), ("io_uring_setup", 425, (1, 0)), ("unshare", 272, (0x10000000,)), ("ptrace", 101, (0, 0, 0, 0))]:
        ctypes.set_errno(0)
        result = libc.syscall(number, *[ctypes.c_long(a) for a in args])
        results[name] = "ok" if result >= 0 else os.strerror(ctypes.get_errno())
    return results


def fork_bomb(event, context):
    forked = failed = 0
    for _ in range(event["attempts"]):
        try:
            pid = os.fork()
        except OSError:
            failed += 1
            continue
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        forked += 1
    return {"forked": forked, "failed": failed}


def memory_bomb(event, context):
    keep = []
    while True:
        keep.append(bytearray(16 * 1024 * 1024))


def busy_loop(event, context):
    while True:
        pass


def raw_flood(event, context):
    chunk = b"r" * (1024 * 1024)
    for _ in range(event["mb"]):
        os.write(1, chunk)
    return "finished"


def flood(event, context):
    chunk = "p" * (1024 * 1024)
    for _ in range(event["mb"]):
        print(chunk)
    return "finished"
`;

export const BROKEN_NODE_MODULE = 'export function handler( {\n';
export const BROKEN_PYTHON_MODULE = 'def handler(event, context)\n    return 1\n';
