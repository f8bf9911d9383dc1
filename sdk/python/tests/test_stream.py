"""Stream functions over WebSocket, against a live platform (SKYSCALE_ENDPOINT and SKYSCALE_GATEWAY)."""
import os
import threading
import time
import unittest
import uuid

from skyscale import Client, SkyscaleError

ENDPOINT = os.environ.get("SKYSCALE_ENDPOINT")
GATEWAY = os.environ.get("SKYSCALE_GATEWAY")

ECHO = """
export async function stream(messages, send, context) {
  await send(JSON.stringify({ path: context.request.path, query: context.request.query, auth: 'authorization' in context.request.headers }));
  let count = 0;
  for await (const m of messages) {
    count++;
    if (m === 'bye') { context.close(4000, 'see you'); break; }
    await send(typeof m === 'string' ? 'echo: ' + m : m);
  }
  return { count };
}
"""

TOTAL = """
def stream(messages, send, context):
    total = 0
    for m in messages:
        total += int(m)
        send("total %d" % total)
    return {"total": total}
"""


@unittest.skipUnless(ENDPOINT and GATEWAY, "SKYSCALE_ENDPOINT / SKYSCALE_GATEWAY are not set: no platform to test against")
class StreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        session = Client(ENDPOINT)
        user = "pys" + uuid.uuid4().hex[:8]
        session.register(user, "python-password")
        session.login(user, "python-password")
        cls.key = session.create_api_key("python-streams")["key"]
        cls.client = Client(ENDPOINT, api_key=cls.key, gateway_endpoint=GATEWAY)
        cls.echo = cls.client.create_function(name="py-echo-" + user, runtime="node", code=ECHO, handler="index.stream")
        cls.total = cls.client.create_function(name="py-total", runtime="python", code=TOTAL)

    def wait_for_record(self, execution_id):
        deadline = time.monotonic() + 30
        while True:
            try:
                return self.client.get_execution(execution_id)
            except SkyscaleError as err:
                if err.status != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def test_echo_text_binary_and_large_messages(self):
        with self.client.open_stream(self.echo["name"], path="/room/7", query={"lang": "en"}) as s:
            self.assertRegex(s.execution_id, r"^[0-9a-f-]{36}$")
            self.assertEqual(s.recv_json(timeout=30), {"path": "/room/7", "query": {"lang": "en"}, "auth": False})
            s.send("hi")
            self.assertEqual(s.recv(timeout=30), "echo: hi")
            s.send_json({"a": [1, 2]})
            self.assertEqual(s.recv(timeout=30), 'echo: {"a": [1, 2]}')
            medium = "é" * 300  # 600 bytes: a 16-bit length both ways
            s.send(medium)
            self.assertEqual(s.recv(timeout=30), "echo: " + medium)
            large = "".join(chr(ord("a") + i % 26) for i in range(200 * 1024))  # > 64 KiB: a 64-bit length
            s.send(large)
            self.assertEqual(s.recv(timeout=30), "echo: " + large)
            blob = os.urandom(100 * 1024)
            s.send(blob)
            self.assertEqual(s.recv(timeout=30), blob)
            status = self.client.stream_status(self.echo["id"])
            self.assertEqual([session["executionId"] for session in status["sessions"]], [s.execution_id])
            execution_id = s.execution_id
        self.assertEqual(s.close_code, 1000)
        self.assertIsNone(s.recv())
        record = self.wait_for_record(execution_id)
        self.assertEqual((record["mode"], record["status"], record["result"]), ("stream", "succeeded", {"count": 5}))
        with self.assertRaises(SkyscaleError) as closed:
            s.send("too late")
        self.assertEqual(closed.exception.code, "STREAM_CLOSED")

    def test_server_side_close_ends_iteration_with_its_code(self):
        s = self.client.open_stream(self.echo["name"])
        s.recv(timeout=30)
        for word in ("one", "two", "bye"):
            s.send(word)
        received = list(s)
        self.assertEqual(received, ["echo: one", "echo: two"])
        self.assertEqual((s.close_code, s.close_reason, s.closed), (4000, "see you", True))
        self.assertEqual(self.wait_for_record(s.execution_id)["result"], {"count": 3})

    def test_state_belongs_to_each_connection(self):
        first = self.client.open_stream("py-total")
        second = self.client.open_stream("py-total")
        try:
            self.assertNotEqual(first.execution_id, second.execution_id)
            first.send("5")
            second.send("100")
            first.send("7")
            self.assertEqual([first.recv(timeout=30), first.recv(timeout=30)], ["total 5", "total 12"])
            self.assertEqual(second.recv(timeout=30), "total 100")
            with self.assertRaises(TimeoutError):
                second.recv(timeout=0.3)
        finally:
            first.close()
            second.close(code=4321, reason="done here")
        self.assertEqual(second.close_code, 4321)
        self.assertEqual(self.wait_for_record(first.execution_id)["result"], {"total": 12})
        # The instance is reused, the handler's state is not.
        with self.client.open_stream("py-total") as third:
            third.send("1")
            self.assertEqual(third.recv(timeout=30), "total 1")

    def test_recv_from_another_thread_ends_when_closed(self):
        s = self.client.open_stream(self.echo["name"])
        s.recv(timeout=30)
        seen = []
        reader = threading.Thread(target=lambda: seen.extend(s))
        reader.start()
        s.send("from main")
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        s.close()
        reader.join(10)
        self.assertFalse(reader.is_alive())
        self.assertEqual((seen, s.close_code), (["echo: from main"], 1000))

    def test_refused_upgrades_raise_skyscale_errors(self):
        with self.assertRaises(SkyscaleError) as unknown:
            self.client.open_stream("no-such-function")
        self.assertEqual((unknown.exception.status, unknown.exception.code), (404, "NOT_FOUND"))
        self.assertTrue(unknown.exception.request_id)
        with self.assertRaises(SkyscaleError) as anonymous:  # private function, no key
            Client(ENDPOINT, gateway_endpoint=GATEWAY).open_stream(self.echo["name"])
        self.assertEqual(anonymous.exception.status, 404)
        with self.assertRaises(SkyscaleError) as bad_key:
            Client(ENDPOINT, api_key="sk_not-a-real-key", gateway_endpoint=GATEWAY).open_stream(self.echo["name"])
        self.assertEqual((bad_key.exception.status, bad_key.exception.code), (401, "INVALID_TOKEN"))
        with self.assertRaises(SkyscaleError) as unreachable:
            Client(ENDPOINT, api_key=self.key, gateway_endpoint="http://127.0.0.1:1").open_stream("x")
        self.assertEqual(unreachable.exception.code, "NETWORK_ERROR")

    def test_public_function_without_key(self):
        fn = self.client.create_function(name="py-public-" + uuid.uuid4().hex[:6], runtime="python", code=TOTAL, public=True)
        with Client(ENDPOINT, gateway_endpoint=GATEWAY).open_stream(fn["name"]) as s:
            s.send("2")
            self.assertEqual(s.recv(timeout=30), "total 2")

    def test_gateway_defaults(self):
        saved = os.environ.pop("SKYSCALE_GATEWAY", None)
        try:
            self.assertEqual(Client("http://example.test:8080").gateway_endpoint, "http://example.test:8081")
            os.environ["SKYSCALE_GATEWAY"] = "http://gw.test:9000/"
            self.assertEqual(Client("http://example.test:8080").gateway_endpoint, "http://gw.test:9000")
            self.assertEqual(Client("http://a:1", gateway_endpoint="ws://b:2").gateway_endpoint, "ws://b:2")
        finally:
            os.environ.pop("SKYSCALE_GATEWAY", None)
            if saved is not None:
                os.environ["SKYSCALE_GATEWAY"] = saved


if __name__ == "__main__":
    unittest.main()
