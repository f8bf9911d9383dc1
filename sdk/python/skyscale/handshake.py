"""The WebSocket opening handshake (RFC 6455 section 4.1) for stream sessions."""
import base64
import hashlib
import os
import socket
import ssl
import urllib.parse

from .errors import SkyscaleError, error_from_body

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEAD_BYTES = 64 * 1024
_MAX_REFUSAL_BYTES = 256 * 1024


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + _ACCEPT_GUID).digest()).decode()


def handshake(url, headers=None, timeout=60):
    """Opens ws:// or wss:// `url` and completes the opening handshake: (socket, answer headers, bytes read past the head).

    A refused upgrade raises the SkyscaleError of its answer (`{error:{code,message,requestId}}`)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError("not a ws:// or wss:// URL: %r" % url)
    secure = parts.scheme == "wss"
    try:
        sock = socket.create_connection((parts.hostname, parts.port or (443 if secure else 80)), timeout=timeout)
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
    except OSError as err:
        raise SkyscaleError(0, "NETWORK_ERROR", "cannot reach %s: %s" % (url, err)) from None
    key = base64.b64encode(os.urandom(16)).decode()
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    lines = ["GET %s HTTP/1.1" % target, "Host: " + parts.netloc.rsplit("@", 1)[-1], "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    for name, value in (headers or {}).items():
        if any(c in str(name) + str(value) for c in "\r\n\0"):
            sock.close()
            raise ValueError("header %r has a line break in it" % name)
        lines.append("%s: %s" % (name, value))
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, answer, rest = _read_head(sock)
        if status != 101:
            raise error_from_body(status, _read_body(sock, answer, rest))
        if answer.get("upgrade", "").lower() != "websocket" or answer.get("sec-websocket-accept") != accept_for(key):
            raise SkyscaleError(status, "STREAM_PROTOCOL_ERROR", "%s answered 101 without a valid WebSocket upgrade (Sec-WebSocket-Accept)" % url)
        sock.settimeout(None)
    except BaseException as err:
        sock.close()
        if isinstance(err, socket.timeout):
            raise SkyscaleError(0, "TIMEOUT", "no handshake answer from %s within %ss" % (url, timeout)) from None
        if isinstance(err, OSError):
            raise SkyscaleError(0, "NETWORK_ERROR", "the handshake with %s failed: %s" % (url, err)) from None
        raise
    return sock, answer, rest


def _read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > _MAX_HEAD_BYTES:
            raise SkyscaleError(0, "STREAM_PROTOCOL_ERROR", "the handshake answer's head is too large")
        chunk = sock.recv(4096)
        if not chunk:
            raise SkyscaleError(0, "NETWORK_ERROR", "the connection closed during the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        raise SkyscaleError(0, "STREAM_PROTOCOL_ERROR", "not an HTTP answer: %r" % status_line[:100]) from None
    answer = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        answer[name] = answer[name] + ", " + value if name in answer else value
    return status, answer, rest


def _read_body(sock, answer, rest):
    try:
        wanted = int(answer.get("content-length", _MAX_REFUSAL_BYTES))
    except ValueError:
        wanted = _MAX_REFUSAL_BYTES
    wanted = min(wanted, _MAX_REFUSAL_BYTES)
    while len(rest) < wanted:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:wanted]
