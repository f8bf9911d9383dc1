"""Skyscale command runtime. Runs INSIDE the sandbox, imported by bootstrap.py when it is loaded as
`command`; standard library only, and only cheap C modules: this is paid for on every cold start.

Per invocation the function's entry file is spawned with the input JSON as argv[1] (and on stdin), the
function's environment and cwd /code. Its stdout is the result (JSON; `{"error": ...}` fails the
execution), its stderr goes to the execution's logs. When it has exited, every process it left behind
is killed: nothing outlives an execution.
"""
import os
import select
import time

# Linux refuses a single argv string of 32 pages or more (MAX_ARG_STRLEN), NUL included.
MAX_ARG_BYTES = 32 * 4096 - 1
STDERR_TAIL_BYTES = 2048
# After the command exits, how long its output pipes may stay open (held by a background process).
PIPE_GRACE_S = 0.2
ELF_MAGIC = b"\x7fELF"
BY_EXTENSION = {".py": "python3", ".sh": "sh", ".js": "node", ".mjs": "node", ".cjs": "node", ".php": "php"}
SIGNAL_NAMES = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
                11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"}
# Python ignores these, and ignored signals survive exec: the command gets the defaults back.
RESET_SIGNALS = (13, 25)


class CommandError(Exception):
    """An execution failure with the payload the host gets as it is (bootstrap.error_payload)."""

    def __init__(self, name, message, sigkilled=False):
        super().__init__(message)
        self.skyscale_error = {"name": name, "message": message, "stack": ""}
        self.sigkilled = sigkilled


def which(name):
    for directory in os.environ.get("PATH", "").split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def shebang_argv(line, entry):
    """Linux semantics: the interpreter, then everything after it as ONE optional argument."""
    text = line.decode("utf-8", "replace").strip()
    interpreter, _, argument = text.partition(" ")
    if not interpreter.startswith("/"):
        interpreter = which(interpreter) or interpreter
    if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
        raise CommandError("HandlerNotFoundError", f"'{entry}' starts with '#!{text}', but {interpreter} does not exist in the sandbox")
    argument = argument.strip()
    return [interpreter, argument] if argument else [interpreter]


class Command:
    def __init__(self, code_root, entry, host):
        self.host = host
        self.entry = entry
        self.path = os.path.join(code_root, entry)
        if not os.path.isfile(self.path):
            raise CommandError("HandlerNotFoundError", f"Cannot find the entry file '{entry}' in the code")
        with open(self.path, "rb") as f:
            head = f.read(256)
        self.copy = None
        if head.startswith(b"#!"):
            self.argv = shebang_argv(head[2:].split(b"\n", 1)[0], entry) + [self.path]
        elif head.startswith(ELF_MAGIC):
            if os.access(self.path, os.X_OK):
                self.argv = [self.path]
            else:
                # Bundles and the code store drop exec bits, and /code is read-only: run a copy.
                self.copy = os.path.join(os.environ.get("TMPDIR", "/tmp"), ".skyscale-entry", os.path.basename(entry))
                self.argv = [self.copy]
                self.place_copy()
        else:
            program = BY_EXTENSION.get(os.path.splitext(entry)[1].lower())
            interpreter = program and which(program)
            if program and not interpreter:
                raise CommandError("HandlerNotFoundError", f"'{entry}' needs {program}, which is not installed in the sandbox")
            if not interpreter:
                raise CommandError("HandlerNotFoundError", f"'{entry}' has no '#!' line, is not an ELF binary and has no extension with a known interpreter ({', '.join(sorted(BY_EXTENSION))})")
            self.argv = [interpreter, self.path]

    def place_copy(self):
        if self.copy is None or os.access(self.copy, os.X_OK):
            return
        os.makedirs(os.path.dirname(self.copy), exist_ok=True)
        with open(self.path, "rb") as src, open(self.copy, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        os.chmod(self.copy, 0o755)

    def __call__(self, event, context):
        # The host sends the input as its own JSON text: argv[1] is byte for byte the execution's input.
        text = context._input if context._input is not None else self.host.json_dumps(event, allow_nan=False)
        data = text.encode("utf-8")
        if len(data) > MAX_ARG_BYTES:
            raise CommandError("InputTooLargeError", f"the input is {len(data)} bytes of JSON; argv[1] holds at most {MAX_ARG_BYTES} bytes on Linux")
        self.place_copy()
        run = Run(self.host, context._execution)
        status = run.execute(self.argv + [data.decode("utf-8")], data)
        return interpret(self.host, run, status)


class Run:
    """One spawned command: pumps its pipes, bounds its output, then kills whatever it left behind."""

    def __init__(self, host, execution):
        self.host = host
        self.execution = execution
        self.stdout = []
        self.stdout_bytes = 0
        self.stderr_tail = b""
        import codecs

        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def execute(self, argv, stdin_data):
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        try:
            pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=[(os.POSIX_SPAWN_DUP2, r_in, 0), (os.POSIX_SPAWN_DUP2, w_out, 1), (os.POSIX_SPAWN_DUP2, w_err, 2)],
                                 setsid=True, setsigdef=RESET_SIGNALS)
        except OSError as exc:
            for fd in (r_in, w_in, r_out, w_out, r_err, w_err):
                os.close(fd)
            raise CommandError("SpawnError", f"could not start {argv[0]}: {exc.strerror}") from None
        for fd in (r_in, w_out, w_err):
            os.close(fd)
        try:
            status = self.pump(pid, w_in, r_out, r_err, stdin_data)
        finally:
            kill_leftovers(pid)
        return status

    def pump(self, pid, w_in, r_out, r_err, stdin_data):
        os.set_blocking(w_in, False)
        poller = select.poll()
        open_fds = {r_out: "stdout", r_err: "stderr", w_in: "stdin"}
        for fd in (r_out, r_err):
            poller.register(fd, select.POLLIN)
        poller.register(w_in, select.POLLOUT)
        status = None
        grace_end = None
        pending_in = memoryview(stdin_data)
        try:
            while r_out in open_fds or r_err in open_fds:
                timeout = 100 if grace_end is None else max(0, int((grace_end - time.monotonic()) * 1000))
                for fd, _ in poller.poll(timeout):
                    if fd == w_in:
                        pending_in = self.feed(w_in, pending_in)
                        if not pending_in:
                            self.close(poller, open_fds, w_in)
                        continue
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        self.close(poller, open_fds, fd)
                    elif fd == r_out:
                        self.on_stdout(chunk)
                    else:
                        self.on_stderr(chunk)
                if status is None:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        grace_end = time.monotonic() + PIPE_GRACE_S
                    else:
                        status = None
                elif time.monotonic() >= grace_end:
                    break  # a background process holds the pipes; it is killed with the rest
            if status is None:
                status = os.waitpid(pid, 0)[1]
        finally:
            for fd in list(open_fds):
                os.close(fd)
        tail = self.decoder.decode(b"", final=True)
        if tail:
            self.execution.write("stderr", tail)
        return status

    @staticmethod
    def feed(fd, pending):
        try:
            written = os.write(fd, pending[:65536])
        except BlockingIOError:
            return pending
        except OSError:  # EPIPE: the command does not read its stdin
            return memoryview(b"")
        return pending[written:]

    @staticmethod
    def close(poller, open_fds, fd):
        poller.unregister(fd)
        del open_fds[fd]
        os.close(fd)

    def on_stdout(self, chunk):
        self.stdout.append(chunk)
        self.stdout_bytes += len(chunk)
        self.check_bound()

    def on_stderr(self, chunk):
        self.stderr_tail = (self.stderr_tail + chunk)[-STDERR_TAIL_BYTES:]
        self.execution.write("stderr", self.decoder.decode(chunk))
        self.check_bound()

    def check_bound(self):
        produced = self.stdout_bytes + self.execution.produced
        if produced > self.host.limits["outputBytes"]:
            self.execution.flush()
            self.host.send({"type": "output_exceeded", "id": self.execution.id, "bytes": produced})
            while True:  # the host kills the instance, and the command with it
                time.sleep(3600)

    def stderr_suffix(self):
        tail = self.stderr_tail.decode("utf-8", "replace").strip()
        return f"; stderr: {tail}" if tail else ""


def kill_leftovers(pid):
    """Sandboxed, we are pid 1 of our own pid namespace: kill(-1) reaches every other process in it
    (daemons that left the process group too) and nothing outside. Unsandboxed, the group is all we can name."""
    try:
        if os.getpid() == 1:
            os.kill(-1, 9)
        else:
            os.killpg(pid, 9)
    except OSError:
        pass
    give_up = time.monotonic() + 1
    while time.monotonic() < give_up:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.001)
        except ChildProcessError:
            return


def interpret(host, run, status):
    text = b"".join(run.stdout).decode("utf-8", "replace").strip()
    value, parsed = parse_json(host, text)
    if not parsed and "\n" in text:
        # Progress lines before a final JSON line: the last line is the result, the rest are logs.
        head, last = text.rsplit("\n", 1)
        value, parsed = parse_json(host, last)
        if parsed:
            run.execution.write("stdout", head + "\n")
    if parsed and isinstance(value, dict) and value.get("error") not in (None, False):
        error = value["error"]
        # Reported as data, not raised: no exception name, the message exactly as the command gave it.
        raise CommandError("", error if isinstance(error, str) else host.json_dumps(error))
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = SIGNAL_NAMES.get(number, f"signal {number}")
        raise CommandError("CommandKilled", f"the command was killed by {name} ({number}){run.stderr_suffix()}", sigkilled=number == 9)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    if code != 0:
        raise CommandError("CommandFailed", f"the command exited with status {code}{run.stderr_suffix()}")
    if parsed:
        return value
    if not text:
        raise CommandError("InvalidOutputError", f"the command printed nothing on stdout; it must print its result as JSON{run.stderr_suffix()}")
    run.execution.write("stdout", text + "\n")
    shown = text if len(text) <= 200 else text[:200] + "…"
    raise CommandError("InvalidOutputError", f"the command's stdout is not JSON: {shown}")


def parse_json(host, text):
    if not text:
        return None, False
    try:
        return host.json_loads(text), True
    except (ValueError, StopIteration, RecursionError):
        return None, False


def load(code_root, entry, host):
    return Command(code_root, entry, host)
