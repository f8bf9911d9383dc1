"""Stream sessions of the Python runtime (docs/streams.md). Runs INSIDE the sandbox; standard library only.

bootstrap.py compiles this file on the first stream_open and calls run(message, bootstrap). The module's
`stream` function is called as stream(messages, send, context): iterating `messages` yields each client
message (str for a text frame, bytes for a binary one) and stops when the client goes away; send(data)
sends one (str -> text, bytes -> binary), blocking while the flow-control window is full, and returns
False once the stream is closed; context.close(code, reason) closes the connection.

The runtime serves one thing at a time, so a session owns the host channel while it runs: reading a
message or waiting for credit reads the next protocol lines itself (protocol.ts has the rules).
"""
import base64
import select
from collections import deque


class Messages:
    """The client's messages, in order; also carries send/close for handlers that prefer one object."""

    def __init__(self, session):
        self._session = session
        self.send = session.send
        self.close = session.close

    def __iter__(self):
        return self

    def __next__(self):
        return self._session.next_message()

    @property
    def closed(self):
        return self._session.ended or self._session.closed


class Session:
    def __init__(self, message, rt):
        self.id = message["id"]
        self.rt = rt
        window = message.get("window") or {}
        self.window_messages = max(1, int(window.get("messages", 64)))
        self.window_bytes = max(1, int(window.get("bytes", 1024 * 1024)))
        self.max_message_bytes = max(1, int(message.get("maxMessageBytes", 1024 * 1024)))
        self.incoming = deque()
        self.in_flight = deque()  # sizes of sent messages not credited back yet, oldest first
        self.in_flight_bytes = 0
        self.consumed = 0
        self.consumed_bytes = 0
        self.ended = False  # the client went away
        self.closed = False  # the function closed the stream, or returned

    # host -> function

    def pump(self, block):
        """Handles one protocol line; without `block`, only one that is already there. False if none."""
        channel = self.rt.channel
        if not block and not channel.buffered_line():
            if channel.eof or not select.select([channel.fd], [], [], 0)[0]:
                return False
        line = channel.readline()
        if not line:
            self.ended = True  # the host closed the channel: the instance is going away
            return True
        if not line.strip():
            return True
        message = self.rt.json_loads(line.decode("utf-8"))
        kind = message.get("type")
        if message.get("id") != self.id:
            return True  # leftovers of an earlier session
        if kind == "stream_data":
            data = message.get("data", "")
            self.incoming.append(base64.b64decode(data) if message.get("binary") else data)
        elif kind == "stream_credit":
            for _ in range(min(int(message.get("messages", 0)), len(self.in_flight))):
                self.in_flight_bytes -= self.in_flight.popleft()
        elif kind == "stream_end":
            self.ended = True
        return True

    def next_message(self):
        while not self.incoming:
            if self.ended or self.closed:
                raise StopIteration
            self.pump(True)
        data = self.incoming.popleft()
        self.consumed += 1
        self.consumed_bytes += len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
        if self.consumed * 4 >= self.window_messages or self.consumed_bytes * 4 >= self.window_bytes:
            self.rt.send({"type": "stream_ack", "id": self.id, "messages": self.consumed})
            self.consumed = 0
            self.consumed_bytes = 0
        return data

    # function -> host

    def send(self, data):
        if isinstance(data, str):
            payload, binary = data.encode("utf-8"), False
        elif isinstance(data, (bytes, bytearray, memoryview)):
            payload, binary = bytes(data), True
        else:
            raise TypeError(f"send() takes str or bytes, got {type(data).__name__}; use json.dumps for objects")
        if len(payload) > self.max_message_bytes:
            raise ValueError(f"stream message of {len(payload)} bytes is larger than the limit of {self.max_message_bytes}")
        while self.pump(False):  # notice a client that went away without blocking
            pass
        while not self.ended and not self.closed and (len(self.in_flight) >= self.window_messages or self.in_flight_bytes >= self.window_bytes):
            self.pump(True)
        if self.ended or self.closed:
            return False
        if binary:
            line = '{"type":"stream_data","id":%s,"binary":true,"data":"%s"}\n' % (self.rt.json_dumps(self.id), base64.b64encode(payload).decode("ascii"))
        else:
            line = '{"type":"stream_data","id":%s,"data":%s}\n' % (self.rt.json_dumps(self.id), self.rt.json_dumps(data))
        self.rt.send_bytes(line.encode("utf-8"))
        self.in_flight.append(len(payload))
        self.in_flight_bytes += len(payload)
        return True

    def close(self, code=1000, reason=""):
        if self.ended or self.closed:
            return
        if not isinstance(code, int) or not (code == 1000 or 3000 <= code <= 4999):
            raise ValueError(f"close code must be 1000 or 3000-4999, got {code!r}")
        reason = str(reason).encode("utf-8")[:123].decode("utf-8", "ignore")
        self.closed = True
        self.rt.send({"type": "stream_close", "id": self.id, "code": code, "reason": reason})


class StreamHandlerNotFoundError(Exception):
    pass


def run(message, rt):
    """Runs one session to its end and sends its result, like bootstrap.handle_invoke."""
    session = Session(message, rt)
    rt.current = execution = rt.Execution(session.id, stream=True)
    ctx = message.get("context") or {}
    context = rt.Context(execution, ctx.get("executionId", session.id), ctx.get("deadline", 0))
    context.mode = "stream"
    context.request = ctx.get("request") or {}
    context.close = session.close
    body = None
    try:
        handler = rt.function["stream"]
        if handler is None:
            raise StreamHandlerNotFoundError("The function's module has no `stream` function: define stream(messages, send, context) to serve WebSocket streams")
        value = handler(Messages(session), session.send, context)
        if hasattr(value, "__await__"):
            raise TypeError("stream() must be a plain function (def), not async def")
        try:
            body = rt.json_dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            error = {"name": "TypeError", "message": f"Handler result is not JSON-serialisable: {exc}", "stack": ""}
            reply = {"type": "result", "id": execution.id, "ok": False, "error": error}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything
        reply = {"type": "result", "id": execution.id, "ok": False, "error": rt.error_payload(exc), "outOfMemory": isinstance(exc, MemoryError)}
    session.closed = True
    execution.flush()
    rt.current = None
    if body is None:
        reply["dropped"] = execution.dropped
        rt.send(reply)
    elif len(body) > rt.limits["outputBytes"]:
        rt.send({"type": "output_exceeded", "id": execution.id, "bytes": len(body)})
    else:
        rt.send_bytes(('{"type":"result","id":%s,"ok":true,"dropped":%d,"result":%s}\n' % (rt.json_dumps(execution.id), execution.dropped, body)).encode("utf-8"))
