"""A local HTTP server standing in for the GitHub REST API in tests (127.0.0.1, free port).

It records every request (method, path, headers, JSON body) and answers from a queue of scripted
responses, falling back to a default (``204 No Content``, like GitHub's dispatch endpoint
without run details). Use it as a context manager::

    with running_fake_github() as gh:
        gh.enqueue(FakeResponse(status=500, body={"message": "boom"}))
        ...  # point the code under test at gh.api_url
        assert gh.requests[0].path == "/repos/acme/churn/actions/workflows/deploy.yml/dispatches"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class FakeResponse:
    """One scripted answer; ``delay_seconds`` holds it back (to provoke client timeouts)."""

    status: int = 204
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """A request the fake server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


class FakeGitHub:
    """State of a running fake GitHub API: scripted responses and recorded requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.default = FakeResponse()
        self._queue: deque[FakeResponse] = deque()
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        """Base URL to configure as the GitHub API URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def enqueue(self, *responses: FakeResponse) -> None:
        """Answer the next requests with these responses, in order."""
        with self._lock:
            self._queue.extend(responses)

    def reset(self) -> None:
        """Forget recorded requests and scripted responses."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self.default = FakeResponse()

    def _record_and_answer(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            return self._queue.popleft() if self._queue else self.default


def _handler_class(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            answer = state._record_and_answer(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            if answer.delay_seconds:
                threading.Event().wait(answer.delay_seconds)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        do_GET = _serve
        do_POST = _serve
        do_PUT = _serve
        do_PATCH = _serve
        do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log (it would print request lines)."""

    return _Handler


@contextmanager
def running_fake_github() -> Iterator[FakeGitHub]:
    """Serve a FakeGitHub on 127.0.0.1 and a free port until the block exits."""
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler_class(FakeGitHub(0)))
    state = FakeGitHub(int(server.server_address[1]))
    server.RequestHandlerClass = _handler_class(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-github", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
