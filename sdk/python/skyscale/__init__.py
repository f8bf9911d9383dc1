"""Python client for the Skyscale API. Standard library only.

    from skyscale import Client
    client = Client("http://127.0.0.1:8080", api_key="sk_...")
    fn = client.create_function(name="hello", runtime="python",
                                code="def handler(event, context):\n    return event")
    print(client.invoke(fn["id"], {"a": 1})["result"])
    with client.open_stream("chat") as s:     # a stream function, over WebSocket
        s.send("hi"); print(s.recv(timeout=10))
"""

from .client import Client
from .errors import SkyscaleError
from .stream import Stream

__all__ = ["Client", "SkyscaleError", "Stream"]
