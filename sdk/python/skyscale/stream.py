"""WebSocket sessions with stream functions (docs/streams.md): an RFC 6455 client on a plain socket."""
import json
import os
import select
import socket
import ssl
import struct
import threading
import time

from .errors import SkyscaleError
from .handshake import handshake

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def _mask(payload, key):
    n = len(payload)
    if n == 0:
        return b""
    # XOR as one big integer: linear time in C, where a Python loop would crawl over large messages.
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload, fin=True):
    """One client frame; a client masks every frame (RFC 6455 section 5.3)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 0x10000:
        head += struct.pack("!BH", 0x80 | 126, n)
    else:
        head += struct.pack("!BQ", 0x80 | 127, n)
    key = os.urandom(4)
    return bytes(head) + key + _mask(payload, key)


def connect(url, headers=None, timeout=60, max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES):
    """Opens a session at ws:// or wss:// `url`; a refused upgrade raises its SkyscaleError."""
    sock, answer, buffered = handshake(url, headers, timeout)
    return Stream(sock, buffered, answer, max_message_bytes)


class Stream:
    """One session with a stream function: send() and recv() messages (str = text, bytes = binary) until either side closes."""

    def __init__(self, sock, buffered, headers, max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES):
        self._sock = sock
        self._buf = bytearray(buffered)  # frames may arrive in the same packet as the 101
        self.headers = headers
        self.execution_id = headers.get("x-execution-id")
        self.max_message_bytes = max_message_bytes
        self.close_code = None
        self.close_reason = None
        self._fragments = None
        self._fragment_opcode = None
        self._fragment_bytes = 0
        self._close_sent = False
        self._closed = False
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()

    @property
    def closed(self):
        return self._closed

    # -- sending -------------------------------------------------------------------------------
    def send(self, data):
        """Sends one message: str as a text frame, bytes as a binary frame."""
        if isinstance(data, str):
            opcode, payload = TEXT, data.encode()
        elif isinstance(data, (bytes, bytearray, memoryview)):
            opcode, payload = BINARY, bytes(data)
        else:
            raise TypeError("send() takes str or bytes, not %s; use send_json() for other values" % type(data).__name__)
        with self._send_lock:
            if self._close_sent or self._closed:
                raise SkyscaleError(0, "STREAM_CLOSED", "the stream is closed (code %s %s)" % (self.close_code, self.close_reason or ""))
            try:
                self._sock.sendall(encode_frame(opcode, payload))
            except OSError as err:
                raise SkyscaleError(0, "NETWORK_ERROR", "sending failed: %s" % err) from None

    def send_json(self, value):
        self.send(json.dumps(value))

    def _send_control(self, opcode, payload):
        with self._send_lock:
            if self._close_sent or self._closed:
                return
            if opcode == CLOSE:
                self._close_sent = True
            try:
                self._sock.sendall(encode_frame(opcode, payload))
            except OSError:
                pass  # the reading side sees the connection drop

    # -- receiving -----------------------------------------------------------------------------
    def recv(self, timeout=None):
        """The next message (str or bytes); None once the stream is closed (see close_code). TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._recv_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("another thread is receiving")
        try:
            while not self._closed:
                frame = self._take_frame()
                if frame is None:
                    self._fill(deadline)
                    continue
                message = self._handle(*frame)
                if message is not None:
                    return message
            return None
        finally:
            self._recv_lock.release()

    def recv_json(self, timeout=None):
        message = self.recv(timeout)
        return None if message is None else json.loads(message)

    def __iter__(self):
        return self

    def __next__(self):
        message = self.recv()
        if message is None:
            raise StopIteration
        return message

    def _fill(self, deadline):
        if not (isinstance(self._sock, ssl.SSLSocket) and self._sock.pending()):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                ready, _, _ = select.select([self._sock], [], [], remaining)
            except (OSError, ValueError):  # closed by another thread: recv() below notices
                ready = True
            if not ready:
                raise TimeoutError("no message within the timeout")
        try:
            chunk = self._sock.recv(65536)
        except (OSError, ValueError):
            chunk = b""
        if chunk:
            self._buf += chunk
        else:
            self._finish(1006, "the connection dropped without a close frame")

    def _take_frame(self):
        """The next complete frame in the buffer as (fin, opcode, payload), or None until more bytes arrive."""
        buf = self._buf
        if len(buf) < 2:
            return None
        fin, opcode, masked, n, offset = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F, 2
        if buf[0] & 0x70 or masked:
            self._fail(1002, "the server sent a masked frame or one with reserved bits set")
        if n == 126:
            if len(buf) < 4:
                return None
            n, offset = struct.unpack_from("!H", buf, 2)[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, offset = struct.unpack_from("!Q", buf, 2)[0], 10
        if opcode >= 0x8 and (n > 125 or not fin):
            self._fail(1002, "the server sent a fragmented or oversized control frame")
        if opcode < 0x8 and (self._fragment_bytes if opcode == CONTINUATION else 0) + n > self.max_message_bytes:
            self._fail(1009, "the server sent a message over max_message_bytes (%d)" % self.max_message_bytes, "MESSAGE_TOO_LARGE")
        if len(buf) < offset + n:
            return None
        payload = bytes(buf[offset:offset + n])
        del buf[:offset + n]
        return bool(fin), opcode, payload

    def _handle(self, fin, opcode, payload):
        if opcode == PING:
            self._send_control(PONG, payload)
        elif opcode == CLOSE:
            if len(payload) == 1:
                self._fail(1002, "the server sent a one-byte close payload")
            code = struct.unpack("!H", payload[:2])[0] if payload else 1005
            self._send_control(CLOSE, payload[:2])  # echo the code (no-op if we closed first)
            self._finish(code, payload[2:].decode("utf-8", "replace"))
        elif opcode in (TEXT, BINARY):
            if self._fragments is not None:
                self._fail(1002, "the server began a message before finishing the last one")
            if fin:
                return self._decode(opcode, payload)
            self._fragments, self._fragment_opcode, self._fragment_bytes = [payload], opcode, len(payload)
        elif opcode == CONTINUATION:
            if self._fragments is None:
                self._fail(1002, "the server sent a continuation frame outside a message")
            self._fragments.append(payload)
            self._fragment_bytes += len(payload)
            if fin:
                data, kind = b"".join(self._fragments), self._fragment_opcode
                self._fragments, self._fragment_opcode, self._fragment_bytes = None, None, 0
                return self._decode(kind, data)
        elif opcode != PONG:
            self._fail(1002, "the server sent an unknown opcode %d" % opcode)
        return None

    def _decode(self, opcode, payload):
        if opcode == BINARY:
            return payload
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(1007, "the server sent a text message that is not UTF-8")

    # -- closing -------------------------------------------------------------------------------
    def close(self, code=1000, reason="", timeout=5.0):
        """Closes with `code` (1000 or 3000-4999) and `reason` (at most 123 bytes); waits up to `timeout` s for the server's close."""
        reason_bytes = reason.encode()
        if code != 1000 and not 3000 <= code <= 4999:
            raise ValueError("close code must be 1000 or 3000-4999, not %r" % code)
        if len(reason_bytes) > 123:
            raise ValueError("close reason is longer than 123 bytes")
        if self._closed:
            return
        self._send_control(CLOSE, struct.pack("!H", code) + reason_bytes)
        # Messages still arriving before the server's close frame are dropped.
        deadline = time.monotonic() + timeout
        try:
            while not self._closed and time.monotonic() < deadline:
                self.recv(timeout=max(0.0, deadline - time.monotonic()))
        except (TimeoutError, SkyscaleError):
            pass
        if not self._closed:
            self._finish(code, reason)

    def _fail(self, code, message, error_code="STREAM_PROTOCOL_ERROR"):
        self._send_control(CLOSE, struct.pack("!H", code))
        self._finish(code, message)
        raise SkyscaleError(0, error_code, message)

    def _finish(self, code, reason):
        if self._closed:
            return
        self._closed = True
        self.close_code, self.close_reason = code, reason
        self._fragments = None
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
        except OSError:
            pass
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed %s" % self.close_code if self._closed else "open"
        return "<Stream %s %s>" % (self.execution_id, state)
