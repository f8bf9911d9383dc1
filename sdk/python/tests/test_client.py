"""Runs against a live platform: SKYSCALE_ENDPOINT must point at one (the node test starts it)."""
import json
import os
import unittest
import urllib.error
import urllib.request
import uuid

from skyscale import Client, SkyscaleError

ENDPOINT = os.environ.get("SKYSCALE_ENDPOINT")
GATEWAY = os.environ.get("SKYSCALE_GATEWAY")


@unittest.skipUnless(ENDPOINT, "SKYSCALE_ENDPOINT is not set: no platform to test against")
class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = Client(ENDPOINT)
        cls.user = "py" + uuid.uuid4().hex[:8]
        cls.client.register(cls.user, "python-password")
        cls.client.login(cls.user, "python-password")
        key = cls.client.create_api_key("python")["key"]
        cls.client = Client(ENDPOINT, api_key=key)

    def test_identity(self):
        self.assertEqual(self.client.me()["username"], self.user)

    def test_deploy_invoke_logs_async(self):
        fn = self.client.create_function(name="py-sdk", runtime="python", code='def handler(event, context):\n    print("seen", event["n"])\n    return {"double": event["n"] * 2}\n')
        execution = self.client.invoke(fn["id"], {"n": 21})
        self.assertEqual(execution["status"], "succeeded", execution["error"])
        self.assertEqual(execution["result"], {"double": 42})
        self.assertIn("seen 21", self.client.get_execution_logs(execution["id"])["logs"])
        queued = self.client.invoke_async(fn["id"], {"n": 1}, idempotency_key="once")
        self.assertEqual(queued["status"], "queued")
        done = self.client.wait_for_execution(queued["id"], timeout=30)
        self.assertEqual(done["result"], {"double": 2})

    def test_secrets_and_objects(self):
        secret = self.client.create_secret("py_secret", "value-1")
        self.assertNotIn("value", secret)
        fn = self.client.create_function(name="py-objects", runtime="node", code="export const handler = () => process.env.PY_SECRET;", secrets=["py_secret"])
        self.assertEqual(self.client.invoke(fn["id"])["result"], "value-1")
        self.client.put_object(fn["id"], "data.bin", b"\x00\x01\x02")
        self.assertEqual(self.client.get_object(fn["id"], "data.bin"), b"\x00\x01\x02")
        self.assertEqual([o["name"] for o in self.client.list_objects(fn["id"])], ["data.bin"])

    @unittest.skipUnless(GATEWAY, "SKYSCALE_GATEWAY is not set")
    def test_routes(self):
        fn = self.client.create_function(name="py-routes", runtime="python", code='def handler(event, context):\n    return {"statusCode": 201, "body": {"id": event["params"]["id"]}}\n', routes=[{"method": "GET", "path": "/py-sdk/:id"}])
        self.assertEqual(fn["routes"], [{"method": "GET", "path": "/py-sdk/:id", "auth": "public"}])
        with urllib.request.urlopen(GATEWAY + "/py-sdk/7") as res:
            self.assertEqual((res.status, json.loads(res.read())), (201, {"id": "7"}))
        changed = self.client.set_routes(fn["id"], routes=[{"method": "GET", "path": "/py-sdk2/:id"}], public=True)
        self.assertEqual(changed, {"public": True, "routes": [{"method": "GET", "path": "/py-sdk2/:id", "auth": "public"}]})
        self.assertEqual([r["path"] for r in self.client.list_routes()], ["/py-sdk2/:id"])
        with self.assertRaises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(GATEWAY + "/py-sdk/7")
        self.assertEqual(gone.exception.code, 404)

    def test_errors_carry_codes(self):
        with self.assertRaises(SkyscaleError) as caught:
            self.client.get_function("00000000-0000-4000-8000-000000000000")
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.code, "NOT_FOUND")
        with self.assertRaises(SkyscaleError) as unreachable:
            Client("http://127.0.0.1:1").list_functions()
        self.assertEqual(unreachable.exception.code, "NETWORK_ERROR")


if __name__ == "__main__":
    unittest.main()
