"""A real, scriptable HTTP server speaking the OpenAI chat-completions API, for backend tests.

It binds 127.0.0.1 on a free port and runs in a thread; each test queues the responses it wants
(status, body, headers, delay) and then inspects the requests the server recorded.

    with FakeOpenAI() as server:
        server.reply("hello", prompt_tokens=5, completion_tokens=1)
        ... LLMSettings(backend="openai", base_url=server.base_url) ...
        assert server.requests[0].json["model"] == "m"
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

CHAT_PATH = "/v1/chat/completions"


def chat_completion(
    content: str | None,
    *,
    prompt_tokens: int | None = 10,
    completion_tokens: int | None = 5,
    model: str = "fake-model",
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A chat-completion body as OpenAI returns it (usage omitted when both counts are None)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish_reason,
        }],
    }
    if prompt_tokens is not None or completion_tokens is not None:
        body["usage"] = {
            "prompt_tokens": prompt_tokens or 0,
            "completion_tokens": completion_tokens or 0,
            "total_tokens": (prompt_tokens or 0) + (completion_tokens or 0),
        }
    return body


@dataclass
class ScriptedResponse:
    """One response the server will send: a JSON-able body, or raw bytes for malformed answers."""

    status: int = 200
    body: dict[str, Any] | list[Any] | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


class FakeOpenAI:
    """The server: queue responses with `enqueue` / `reply` / `fail`, read `requests` afterwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[ScriptedResponse] = deque()
        self._requests: list[RecordedRequest] = []
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-openai", daemon=True,
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What AGENTBUS_LLM_BASE_URL should be to talk to this server."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def enqueue(self, *responses: ScriptedResponse) -> None:
        """Queue responses, sent in order to the next requests."""
        with self._lock:
            self._queue.extend(responses)

    def reply(self, content: str | None, **kwargs: Any) -> None:
        """Queue a successful chat completion (see `chat_completion` for the options)."""
        self.enqueue(ScriptedResponse(body=chat_completion(content, **kwargs)))

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None,
             message: str = "scripted failure") -> None:
        """Queue `times` OpenAI-style error responses with `status` (and Retry-After if given)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"message": message, "type": "fake", "code": status}}
        self.enqueue(*(ScriptedResponse(status=status, body=body, headers=headers)
                       for _ in range(times)))

    def start(self) -> FakeOpenAI:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; delayed responses still pending are abandoned."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _next(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self._requests.append(request)
            if request.path != CHAT_PATH:
                return ScriptedResponse(404, {"error": {"message": f"no route {request.path}"}})
            if self._queue:
                return self._queue.popleft()
        # A loud, recognisable answer when a test forgot to script one.
        return ScriptedResponse(418, {"error": {"message": "fake_openai: no scripted response"}})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers and httpx's pool expect
            timeout = 10  # idle keep-alive connections end on their own

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = RecordedRequest(
                    method=self.command, path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body, received_at=time.monotonic(),
                )
                scripted = fake._next(recorded)
                if scripted.delay_s and fake._closing.wait(scripted.delay_s):
                    return
                payload, content_type = scripted.encoded()
                try:
                    self.send_response(scripted.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in scripted.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (timeout test): nothing left to tell it.
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet; tests read `requests` instead of logs."""

        return Handler
