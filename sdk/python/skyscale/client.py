import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from . import stream as _stream
from .errors import SkyscaleError, error_from_body


def _q(value):
    return urllib.parse.quote(str(value), safe="")


def _default_gateway(endpoint):
    parts = urllib.parse.urlsplit(endpoint)
    host = parts.hostname or "127.0.0.1"
    return "%s://%s:8081" % (parts.scheme or "http", "[%s]" % host if ":" in host else host)


class Client:
    """Typed-ish access to the Skyscale API with an API key (sk_...) or a session token."""

    def __init__(self, endpoint="http://127.0.0.1:8080", api_key=None, token=None, timeout=60, gateway_endpoint=None):
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.credential = api_key or token
        self.timeout = timeout
        # The gateway (data plane) serves stream functions; default: the endpoint's host on port 8081.
        self.gateway_endpoint = (gateway_endpoint or os.environ.get("SKYSCALE_GATEWAY") or _default_gateway(self.endpoint)).rstrip("/")

    # -- transport -----------------------------------------------------------------------------
    def _request(self, method, path, body=None, query=None, headers=None, raw_body=None, raw_response=False):
        url = self.endpoint + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None
        all_headers = {"accept": "application/json"}
        if self.credential:
            all_headers["authorization"] = "Bearer " + self.credential
        if raw_body is not None:
            data = raw_body
        elif body is not None:
            data = json.dumps(body).encode()
            all_headers["content-type"] = "application/json"
        all_headers.update(headers or {})
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as err:
            raise error_from_body(err.code, err.read()) from None
        except urllib.error.URLError as err:
            raise SkyscaleError(0, "NETWORK_ERROR", "cannot reach %s: %s" % (self.endpoint, err.reason)) from None
        if raw_response:
            return payload
        return json.loads(payload) if payload else None

    # -- accounts ------------------------------------------------------------------------------
    def register(self, username, password):
        return self._request("POST", "/auth/register", {"username": username, "password": password})

    def login(self, username, password):
        """Logs in and uses the session token for later calls; returns {token, expiresAt}."""
        session = self._request("POST", "/auth/login", {"username": username, "password": password})
        self.credential = session["token"]
        return session

    def me(self):
        return self._request("GET", "/api/auth/me")

    def create_api_key(self, name=None):
        return self._request("POST", "/api/auth/api-key", {} if name is None else {"name": name})

    def list_api_keys(self):
        return self._request("GET", "/api/auth/api-keys")["items"]

    def revoke_api_key(self, key_id):
        self._request("DELETE", "/api/auth/api-keys/" + _q(key_id))

    # -- functions -----------------------------------------------------------------------------
    def create_function(self, **definition):
        """name, runtime, and one of code (+filename) or files; optional handler, memoryMb, timeoutMs, env, secrets..."""
        return self._request("POST", "/api/functions", definition)

    def update_function(self, function_id, **changes):
        return self._request("PUT", "/api/functions/" + _q(function_id), changes)

    def list_functions(self):
        return self._request("GET", "/api/functions")["items"]

    def get_function(self, function_id):
        return self._request("GET", "/api/functions/" + _q(function_id))

    def get_function_by_name(self, name):
        return self._request("GET", "/api/functions/name/" + _q(name))

    def delete_function(self, function_id):
        self._request("DELETE", "/api/functions/" + _q(function_id))

    # -- gateway routes ------------------------------------------------------------------------
    def set_routes(self, function_id, routes=None, public=None):
        """Replaces a function's gateway routes ([{"method", "path", "auth"?, "eventShape"?}]) and/or sets its public flag; no new version."""
        body = {}
        if routes is not None:
            body["routes"] = routes
        if public is not None:
            body["public"] = public
        return self._request("PUT", "/api/functions/%s/routes" % _q(function_id), body)

    def list_routes(self):
        return self._request("GET", "/api/routes")["items"]

    # -- invocation ----------------------------------------------------------------------------
    def invoke(self, function_id, event=None):
        """Runs the function and returns its execution record."""
        return self._request("POST", "/api/functions/%s/invoke" % _q(function_id), event)

    def invoke_async(self, function_id, event=None, idempotency_key=None):
        headers = {"x-invocation-type": "async"}
        if idempotency_key is not None:
            headers["idempotency-key"] = idempotency_key
        return self._request("POST", "/api/functions/%s/invoke" % _q(function_id), event, headers=headers)

    def open_stream(self, name, path=None, query=None, headers=None, timeout=None, max_message_bytes=_stream.DEFAULT_MAX_MESSAGE_BYTES):
        """Opens a WebSocket session with the stream function `name` on the gateway (docs/streams.md).

        Sends the client's API key (session tokens are not accepted there); without one only public
        functions answer. `path` and `query` reach the function as context.request; a refused upgrade
        raises SkyscaleError with the answer's status and code (404, 401, 429, 400).
        """
        base = "ws" + self.gateway_endpoint[4:] if self.gateway_endpoint.startswith("http") else self.gateway_endpoint
        sub = "" if path in (None, "", "/") else "/" + urllib.parse.quote(path.lstrip("/"), safe="/%:@!$&'()*+,;=~")
        url = "%s/ws/%s%s" % (base, _q(name), sub)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        all_headers = dict(headers or {})
        if self.api_key:
            all_headers["Authorization"] = "Bearer " + self.api_key
        return _stream.connect(url, all_headers, timeout=self.timeout if timeout is None else timeout, max_message_bytes=max_message_bytes)

    def stream_status(self, function_id):
        """The function's stream instances (busy / idle per version) and open sessions."""
        return self._request("GET", "/api/v1/functions/%s/streams" % _q(function_id))

    def get_execution(self, execution_id):
        return self._request("GET", "/api/executions/" + _q(execution_id))

    def wait_for_execution(self, execution_id, timeout=60.0, interval=0.2):
        deadline = time.monotonic() + timeout
        while True:
            execution = self.get_execution(execution_id)
            if execution["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return execution
            time.sleep(interval)

    def list_executions(self, status=None, function_id=None, limit=None, cursor=None):
        return self._request("GET", "/api/executions", query={"status": status, "functionId": function_id, "limit": limit, "cursor": cursor})

    def get_execution_logs(self, execution_id):
        return self._request("GET", "/api/executions/%s/logs" % _q(execution_id))

    # -- secrets and objects -------------------------------------------------------------------
    def create_secret(self, name, value):
        return self._request("POST", "/api/secrets", {"name": name, "value": value})

    def list_secrets(self):
        return self._request("GET", "/api/secrets")["items"]

    def update_secret(self, secret_id, value):
        return self._request("PUT", "/api/secrets/" + _q(secret_id), {"value": value})

    def delete_secret(self, secret_id):
        self._request("DELETE", "/api/secrets/" + _q(secret_id))

    def put_object(self, function_id, name, data, content_type="application/octet-stream"):
        if isinstance(data, str):
            data = data.encode()
        return self._request("PUT", "/api/function-objects/%s/%s" % (_q(function_id), _q(name)), raw_body=data, headers={"content-type": content_type})

    def get_object(self, function_id, name):
        return self._request("GET", "/api/function-objects/%s/%s" % (_q(function_id), _q(name)), raw_response=True)

    def list_objects(self, function_id):
        return self._request("GET", "/api/function-objects/" + _q(function_id))["items"]

    def delete_object(self, function_id, name):
        self._request("DELETE", "/api/function-objects/%s/%s" % (_q(function_id), _q(name)))

    def list_vms(self):
        return self._request("GET", "/api/vms")["items"]
