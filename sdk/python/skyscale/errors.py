import json


class SkyscaleError(Exception):
    """An error answered by the API: HTTP status, stable code, message, request id and optional details."""

    def __init__(self, status, code, message, request_id=None, details=None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details


def error_from_body(status, payload):
    """The SkyscaleError for an error answer: its `{error:{code,message,requestId}}` body, or the raw text."""
    try:
        error = json.loads(payload)["error"]
        return SkyscaleError(status, error["code"], error["message"], error.get("requestId"), error.get("details"))
    except (ValueError, KeyError, TypeError):
        text = payload[:200].decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)[:200]
        return SkyscaleError(status, "HTTP_%d" % status, text or "the server answered %d" % status)
