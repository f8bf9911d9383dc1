"""Skyscale Python runtime bootstrap. Runs INSIDE the sandbox; standard library only.

Same line protocol as node-bootstrap.sandbox.ts: host messages arrive on fd 3, ours leave on fd 4.
User output (print, sys.stdout/sys.stderr, logging) becomes `log` messages, never fd 1/2 bytes.
"""
import importlib
import os
import sys
import time

FD_IN, FD_OUT = 3, 4
CODE_ROOT = sys.argv[1] if len(sys.argv) > 1 else "/code"
SITE_PACKAGES = [d for d in (sys.argv[2] if len(sys.argv) > 2 else "").split(":") if d]
# The name this file's code objects carry (the driver may run it from bytecode compiled with another one).
BOOTSTRAP_FILE = sys._getframe(0).f_code.co_filename
RUNTIME_DIR = os.path.dirname(BOOTSTRAP_FILE)  # this file and stream_session.py: not the user's frames
FLUSH_BYTES = 4096

limits = {"logBytes": 256 * 1024, "outputBytes": 6 * 1024 * 1024}
# "stream": the module's `stream` function (WebSocket stream sessions, stream_session.py), if it has one.
function = {"handler": None, "stream": None, "id": "", "name": "", "version": ""}
current = None  # the execution in flight (this runtime serves one at a time)
event_loop = None


def _not_serializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def make_json_codec():
    """The json package pulls in re and enum (~8 ms of a ~10 ms start); its C core alone is enough."""
    try:
        import _json

        class DecodeContext:
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            memo = {}

            @staticmethod
            def parse_constant(name):
                raise ValueError(f"invalid JSON constant {name}")

        scan = _json.make_scanner(DecodeContext())

        def loads(text):
            value, end = scan(text, 0)
            if text[end:].strip():
                raise ValueError(f"extra data after the JSON value at position {end}")
            return value

        def dumps(value, allow_nan=True):
            encode = _json.make_encoder({}, _not_serializable, _json.encode_basestring_ascii, None, ":", ",", False, False, allow_nan)
            return "".join(encode(value, 0))

        dumps({"probe": [1, 2.5, "x", None]})
        return loads, dumps
    except (ImportError, AttributeError, TypeError):
        import json

        return json.loads, lambda value, allow_nan=True: json.dumps(value, separators=(",", ":"), allow_nan=allow_nan)


json_loads, json_dumps = make_json_codec()


def send_bytes(data):
    view = memoryview(data)
    while view:
        written = os.write(FD_OUT, view)
        view = view[written:]


def send(message):
    send_bytes((json_dumps(message) + "\n").encode("utf-8"))


class Execution:
    def __init__(self, execution_id, stream=False):
        self.id = execution_id
        self.stream = stream  # a stream session may run for hours: its logs are bounded, never fatal
        self.forwarded = 0
        self.produced = 0
        self.dropped = 0
        self.pending = []
        self.pending_bytes = 0
        self.pending_stream = "stdout"

    def write(self, stream, text):
        if not text:
            return
        if stream != self.pending_stream:
            self.flush()
            self.pending_stream = stream
        size = len(text.encode("utf-8", "replace"))
        self.produced += size
        self.pending.append(text)
        self.pending_bytes += size
        if "\n" in text or self.pending_bytes >= FLUSH_BYTES:
            self.flush()
        if self.produced > limits["outputBytes"] and not self.stream:
            self.flush()
            send({"type": "output_exceeded", "id": self.id, "bytes": self.produced})
            # The spewing code may be a loop we cannot interrupt: park here, the host kills us.
            while True:
                time.sleep(3600)

    def flush(self):
        if not self.pending:
            return
        data = "".join(self.pending).encode("utf-8", "replace")
        self.pending, self.pending_bytes = [], 0
        room = limits["logBytes"] - self.forwarded
        if room <= 0:
            self.dropped += len(data)
            return
        kept = data[:room]
        self.forwarded += len(kept)
        self.dropped += len(data) - len(kept)
        send({"type": "log", "id": self.id, "stream": self.pending_stream, "data": kept.decode("utf-8", "ignore")})


class CapturedStream:
    """Stands in for sys.stdout / sys.stderr; routes text to the current execution."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name):
        self.name = name

    def write(self, text):
        if current is not None:
            current.write(self.name, str(text))
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False


class Context:
    def __init__(self, execution, execution_id, deadline, raw_input=None):
        self._execution = execution
        self._input = raw_input  # the input as JSON text, sent instead of the event to command functions
        self.execution_id = self.executionId = execution_id
        self.function_id = self.functionId = function["id"]
        self.function_name = self.functionName = function["name"]
        self.function_version = self.functionVersion = function["version"]
        self.deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int(self.deadline - time.time() * 1000))

    getRemainingTimeInMillis = get_remaining_time_in_millis

    def log(self, *args):
        self._execution.write("stdout", " ".join(str(a) for a in args) + "\n")


def error_payload(exc):
    if hasattr(exc, "skyscale_error"):  # failures the runtime describes itself (command runtime)
        return exc.skyscale_error
    import traceback  # only paid for on errors: start-up time matters more

    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if os.path.dirname(f.filename) != RUNTIME_DIR and not f.filename.startswith("<frozen importlib")
    ]
    stack = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames)]) if frames else ""
    stack += "".join(traceback.format_exception_only(type(exc), exc))
    return {"name": type(exc).__name__, "message": str(exc), "stack": stack}


class HandlerNotFoundError(Exception):
    pass


def resolve_handler(spec):
    module_path, _, export = spec.rpartition(".")
    if not module_path or not export:
        raise HandlerNotFoundError(f"Handler '{spec}' must look like 'file.function'")
    module_name = module_path.replace("/", ".")
    if module_name.endswith(".py"):
        module_name = module_name[:-3]
    if not os.path.exists(os.path.join(CODE_ROOT, module_name.replace(".", "/") + ".py")):
        raise HandlerNotFoundError(f"Cannot find module '{module_path}' ({module_name.replace('.', '/')}.py in the code directory)")
    module = importlib.import_module(module_name)
    handler = getattr(module, export, None)
    stream = getattr(module, "stream", None)
    function["stream"] = stream if callable(stream) else None
    if not callable(handler):
        error = HandlerNotFoundError(f"Handler '{spec}': module '{module_name}' has no function '{export}'")
        if function["stream"] is None:
            raise error
        return missing_handler(error)  # a module that only streams loads fine
    return handler


def missing_handler(error):
    def handler(event, context):
        raise error

    return handler


class Channel:
    """Host messages on fd 3, read without Python's buffering so a stream session can poll for them."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def buffered_line(self):
        return b"\n" in self.buffer

    def readline(self):
        """The next line, blocking; b"" at end of input."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return line
            if self.eof:
                return b""
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
            self.buffer += chunk


channel = Channel(FD_IN)
stream_sessions = None


def handle_stream_open(message):
    """Stream sessions live in stream_session.py, next to this file, compiled on the first one only."""
    global stream_sessions
    if stream_sessions is None:
        path = os.path.join(RUNTIME_DIR, "stream_session.py")
        stream_sessions = {"__name__": "_skyscale_stream_session", "__file__": path}
        with open(path, encoding="utf-8") as source:
            exec(compile(source.read(), path, "exec"), stream_sessions)  # importlib.util would cost more
    stream_sessions["run"](message, sys.modules[__name__])


def forward_host_api(socket_path, max_connections):
    """The host API is a Unix socket; code reaches it as http://127.0.0.1:<port>, the only address it has.

    At most max_connections are forwarded at once (each costs the platform a descriptor): the accept
    loop waits for a free slot, so further connections wait in the listen queue.
    Built on _socket and _thread: `import socket, threading` costs ~13 ms, most of a cold start."""
    import _socket
    import _thread

    # A counting semaphore from two locks: `room` is held while every slot is taken.
    room = _thread.allocate_lock()
    count_lock = _thread.allocate_lock()
    active = [0]

    def take_slot():
        room.acquire()
        with count_lock:
            active[0] += 1
            if active[0] < max_connections:
                room.release()

    def give_slot():
        with count_lock:
            active[0] -= 1
            if active[0] == max_connections - 1:
                room.release()

    def pump(src, dst, done):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(_socket.SHUT_WR)
        except OSError:
            pass
        if done is not None:
            done.release()

    def serve(client):
        upstream = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            upstream.connect(socket_path)
            done = _thread.allocate_lock()
            done.acquire()
            _thread.start_new_thread(pump, (upstream, client, done))
            pump(client, upstream, None)
            done.acquire()
        except (OSError, RuntimeError):  # RuntimeError: no thread to spare (the pids limit)
            pass
        finally:
            client.close()
            upstream.close()
            give_slot()

    def accept_loop():
        while True:
            take_slot()
            try:
                fd, _ = listener._accept()
            except OSError:  # out of descriptors in the sandbox, or a connection reset before it was taken
                give_slot()
                import time
                time.sleep(0.05)
                continue
            client = _socket.socket(fileno=fd)
            try:
                _thread.start_new_thread(serve, (client,))
            except RuntimeError:
                client.close()
                give_slot()

    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    _thread.start_new_thread(accept_loop, ())
    return "http://127.0.0.1:%d" % listener.getsockname()[1]


def load_command(entry):
    """The command runtime: this bootstrap spawns the function's entry file per invocation."""
    path = os.path.join(os.path.dirname(BOOTSTRAP_FILE), "command_runner.py")
    runner = {"__name__": "_skyscale_command_runner", "__file__": path}
    with open(path, encoding="utf-8") as source:
        exec(compile(source.read(), path, "exec"), runner)  # importlib.util would cost more than the runner
    return runner["load"](CODE_ROOT, entry, sys.modules[__name__])


def handle_load(message):
    global current
    limits.update(message.get("limits") or {})
    os.environ.update({k: str(v) for k, v in (message.get("env") or {}).items()})
    function["id"] = message.get("functionId", "")
    function["name"] = message.get("functionName", "")
    function["version"] = message.get("functionVersion", "")
    current = execution = Execution(message["id"])
    try:
        if message.get("api"):
            api = message["api"]
            os.environ["API_BASE_URL"] = forward_host_api(api["socket"], api.get("maxConnections") or 16)
        if message.get("runtime") == "command":
            function["handler"] = load_command(message["handler"])
        else:
            function["handler"] = resolve_handler(message["handler"])
        reply = {"type": "loaded", "id": execution.id, "ok": True}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        reply = {"type": "loaded", "id": execution.id, "ok": False, "error": error_payload(exc)}
    execution.flush()
    current = None
    reply["dropped"] = execution.dropped
    send(reply)


def run_handler(event, context):
    global event_loop
    value = function["handler"](event, context)
    if hasattr(value, "__await__"):
        if event_loop is None:
            import asyncio  # ~10 ms to import, so only for async handlers

            event_loop = asyncio.new_event_loop()
        value = event_loop.run_until_complete(value)
    return value


def handle_invoke(message):
    global current
    current = execution = Execution(message["id"])
    ctx = message.get("context") or {}
    context = Context(execution, ctx.get("executionId", execution.id), ctx.get("deadline", 0), message.get("input"))
    body = None
    try:
        if function["handler"] is None:
            raise RuntimeError("No function is loaded in this instance")
        value = run_handler(message.get("event"), context)
        try:
            body = json_dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            error = {"name": "TypeError", "message": f"Handler result is not JSON-serialisable: {exc}", "stack": ""}
            reply = {"type": "result", "id": execution.id, "ok": False, "error": error}
    except BaseException as exc:  # noqa: BLE001
        reply = {"type": "result", "id": execution.id, "ok": False, "error": error_payload(exc), "outOfMemory": isinstance(exc, MemoryError), "sigkilled": getattr(exc, "sigkilled", False)}
    execution.flush()
    current = None
    if body is None:
        reply["dropped"] = execution.dropped
        send(reply)
    elif len(body) > limits["outputBytes"]:
        send({"type": "output_exceeded", "id": execution.id, "bytes": len(body)})
    else:
        send_bytes(('{"type":"result","id":%s,"ok":true,"dropped":%d,"result":%s}\n' % (json_dumps(execution.id), execution.dropped, body)).encode("utf-8"))


def main():
    # Fds inherited by accident from the host must not be reachable by user code, nor the protocol
    # fds by the processes a command function spawns.
    os.closerange(FD_OUT + 1, 65536)
    os.set_inheritable(FD_IN, False)
    os.set_inheritable(FD_OUT, False)
    sys.stdout = CapturedStream("stdout")
    sys.stderr = CapturedStream("stderr")
    sys.path.insert(0, CODE_ROOT)
    sys.path.extend(d for d in SITE_PACKAGES if os.path.isdir(d))
    # Without `import site` (-S) these conveniences are missing; user code may still call them.
    import builtins

    builtins.exit = builtins.quit = sys.exit
    send({"type": "ready", "runtime": "python", "version": sys.version.split()[0]})
    for line in iter(channel.readline, b""):
        if not line.strip():
            continue
        message = json_loads(line.decode("utf-8"))
        if message.get("type") == "load":
            handle_load(message)
        elif message.get("type") == "invoke":
            handle_invoke(message)
        elif message.get("type") == "stream_open":
            handle_stream_open(message)


if __name__ == "__main__":
    main()
