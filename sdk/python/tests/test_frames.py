"""RFC 6455 framing of skyscale.stream, byte for byte: the peer end of a socket pair plays the server's side.

Covers what the platform's own server never sends (fragmented messages, pings on demand, malformed
frames); the sessions against a live platform are in test_stream.py.
"""
import socket
import struct
import threading
import unittest

from skyscale import SkyscaleError, Stream
from skyscale.handshake import accept_for, handshake
from skyscale.stream import BINARY, CLOSE, PONG, TEXT, encode_frame


def read_client_frame(sock):
    """One frame as the client sent it: (fin, opcode, unmasked payload); asserts it was masked."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "the client closed the connection"
            data += chunk
        return data
    b0, b1 = exactly(2)
    assert b1 & 0x80, "client frames must be masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exactly(8))[0]
    key = exactly(4)
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(exactly(n)))
    return bool(b0 & 0x80), b0 & 0x0F, payload


class FramesTest(unittest.TestCase):
    def setUp(self):
        self.server, client = socket.socketpair()
        self.server.settimeout(10)
        self.stream = Stream(client, b"", {"x-execution-id": "exec-1"}, max_message_bytes=100 * 1024)

    def tearDown(self):
        self.server.close()
        if not self.stream.closed:
            self.stream._finish(1006, "")

    def test_rfc_examples_single_fragmented_and_ping_in_between(self):
        self.server.sendall(b"\x81\x05Hello")
        self.server.sendall(b"\x01\x03Hel" + b"\x89\x04ping" + b"\x80\x02lo")
        self.assertEqual(self.stream.execution_id, "exec-1")
        self.assertEqual(self.stream.recv(timeout=5), "Hello")
        self.assertEqual(self.stream.recv(timeout=5), "Hello")
        self.assertEqual(read_client_frame(self.server), (True, PONG, b"ping"))

    def test_16_and_64_bit_lengths_both_ways(self):
        for size in (125, 126, 65535, 65536, 70000):
            data = bytes(i % 251 for i in range(size))
            head = struct.pack("!BB", 0x82, size) if size < 126 else struct.pack("!BBH", 0x82, 126, size) if size < 65536 else struct.pack("!BBQ", 0x82, 127, size)
            self.server.sendall(head + data)
            self.assertEqual(self.stream.recv(timeout=5), data)
            self.stream.send(data)
            self.assertEqual(read_client_frame(self.server), (True, BINARY, data))
        self.stream.send("héllo")
        self.assertEqual(read_client_frame(self.server), (True, TEXT, "héllo".encode()))

    def test_frames_split_across_reads_and_timeouts(self):
        with self.assertRaises(TimeoutError):
            self.stream.recv(timeout=0.05)
        self.server.sendall(b"\x81\x7e\x01")  # half a header
        with self.assertRaises(TimeoutError):
            self.stream.recv(timeout=0.05)
        self.server.sendall(b"\x00" + b"x" * 200)
        with self.assertRaises(TimeoutError):
            self.stream.recv(timeout=0.05)
        self.server.sendall(b"x" * 56)
        self.assertEqual(self.stream.recv(timeout=5), "x" * 256)

    def test_server_close_is_echoed_and_ends_iteration(self):
        self.server.sendall(b"\x81\x02hi" + b"\x88\x05" + struct.pack("!H", 4000) + b"bye")
        self.assertEqual(list(self.stream), ["hi"])
        self.assertEqual((self.stream.close_code, self.stream.close_reason), (4000, "bye"))
        self.assertEqual(read_client_frame(self.server), (True, CLOSE, struct.pack("!H", 4000)))
        with self.assertRaises(SkyscaleError):
            self.stream.send("late")

    def test_client_close_handshake(self):
        def answer():
            frame = read_client_frame(self.server)
            self.server.sendall(b"\x81\x04late" + b"\x88\x02" + frame[2][:2])  # a message still in flight, then the close
        peer = threading.Thread(target=answer)
        peer.start()
        self.stream.close(4100, "done")
        peer.join(5)
        self.assertEqual((self.stream.closed, self.stream.close_code), (True, 4100))
        with self.assertRaises(ValueError):
            Stream(socket.socket(), b"", {}).close(1006)

    def test_dropped_connection_is_1006(self):
        self.server.close()
        self.assertIsNone(self.stream.recv(timeout=5))
        self.assertEqual(self.stream.close_code, 1006)

    def assert_fails(self, data, close_code, error_code="STREAM_PROTOCOL_ERROR"):
        self.server.sendall(data)
        with self.assertRaises(SkyscaleError) as caught:
            self.stream.recv(timeout=5)
        self.assertEqual(caught.exception.code, error_code)
        self.assertEqual(read_client_frame(self.server), (True, CLOSE, struct.pack("!H", close_code)))
        self.assertEqual(self.stream.close_code, close_code)

    def test_too_large_message(self):
        self.assert_fails(struct.pack("!BBQ", 0x82, 127, 200 * 1024), 1009, "MESSAGE_TOO_LARGE")

    def test_too_large_across_fragments(self):
        chunk = b"y" * 60000
        self.assert_fails(struct.pack("!BBH", 0x02, 126, 60000) + chunk + struct.pack("!BBH", 0x80, 126, 60000) + chunk, 1009, "MESSAGE_TOO_LARGE")

    def test_masked_server_frame(self):
        self.assert_fails(b"\x81\x85abcd" + b"x" * 5, 1002)

    def test_invalid_utf8(self):
        self.assert_fails(b"\x81\x02\xc3\x28", 1007)

    def test_continuation_without_start(self):
        self.assert_fails(b"\x80\x01x", 1002)

    def test_encode_frame_masks(self):
        frame = encode_frame(TEXT, b"abc")
        self.assertEqual((frame[0], frame[1]), (0x81, 0x83))
        key = frame[2:6]
        self.assertEqual(bytes(b ^ key[i % 4] for i, b in enumerate(frame[6:])), b"abc")


class HandshakeTest(unittest.TestCase):
    def test_rfc_accept_example(self):
        self.assertEqual(accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def answer_with(self, head_for_key):
        listener = socket.create_server(("127.0.0.1", 0))
        def serve():
            conn, _ = listener.accept()
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = [line.split(":", 1)[1].strip() for line in request.decode().split("\r\n") if line.lower().startswith("sec-websocket-key:")][0]
            conn.sendall(head_for_key(key))
            conn.close()
            listener.close()
        threading.Thread(target=serve, daemon=True).start()
        return "ws://127.0.0.1:%d/ws/fn" % listener.getsockname()[1]

    def test_wrong_accept_is_refused(self):
        url = self.answer_with(lambda key: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept_for(key + "x").encode() + b"\r\n\r\n")
        with self.assertRaises(SkyscaleError) as caught:
            handshake(url, timeout=5)
        self.assertEqual(caught.exception.code, "STREAM_PROTOCOL_ERROR")

    def test_right_accept_keeps_early_frames(self):
        url = self.answer_with(lambda key: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Execution-Id: e1\r\nSec-WebSocket-Accept: " + accept_for(key).encode() + b"\r\n\r\n\x81\x02hi")
        sock, answer, rest = handshake(url, timeout=5)
        stream = Stream(sock, rest, answer)
        self.assertEqual((stream.execution_id, stream.recv(timeout=5)), ("e1", "hi"))
        self.assertIsNone(stream.recv(timeout=5))
        self.assertEqual(stream.close_code, 1006)

    def test_refusal_without_json_body(self):
        url = self.answer_with(lambda key: b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
        with self.assertRaises(SkyscaleError) as caught:
            handshake(url, timeout=5)
        self.assertEqual((caught.exception.status, caught.exception.code, caught.exception.message), (503, "HTTP_503", "busy"))


if __name__ == "__main__":
    unittest.main()
