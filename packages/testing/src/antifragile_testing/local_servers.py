"""Real local servers for the operations tests: a scripted HTTP site (feeds, pages, robots.txt, slow and
huge bodies, a webhook receiver) and an SMTP server that records or refuses mail; the threaded loopback
HTTP server they and the OpenAI-compatible server run on."""

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Route:
    """What one path answers. `statuses` are used first, one per request, then `status`; a slow route
    waits `delay` seconds between header and body; a huge one streams `repeat` copies of `body`;
    `location` is sent as the Location header (redirects)."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    statuses: deque[int] = field(default_factory=deque)
    delay: float = 0.0
    repeat: int = 1
    location: str | None = None


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float


class LoopbackHTTPServer:
    """A ThreadingHTTPServer on a free loopback port (127.0.0.1 unless `host` names another loopback
    address), serving from a daemon thread between `start()` and `stop()` (or as a context manager)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, host: str = "127.0.0.1") -> None:
        self._httpd = ThreadingHTTPServer((host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=name, daemon=True)

    @property
    def root_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalSite(LoopbackHTTPServer):
    """A threaded HTTP/1.0 server on loopback; unknown paths answer 404. Bodies are sent without a
    Content-Length, so a client can only enforce a size cap while streaming."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        super().__init__(_handler_for(self), "local-site", host)

    def url(self, path: str) -> str:
        return self.root_url + path

    def hits(self, path: str, method: str = "GET") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def _answer(self, path: str) -> Route:
        """The route for `path` with this request's status (the next scripted one, if any)."""
        with self._lock:
            route = self.routes.get(path, Route(body=b"not found", status=404))
            status = route.statuses.popleft() if route.statuses else route.status
        return replace(route, status=status, statuses=deque())

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)


def _handler_for(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            route = site._answer(self.path)
            site._record(
                Recorded(method, self.path, dict(self.headers.items()), body, route.status, time.monotonic())
            )
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.location is not None:
                self.send_header("Location", route.location)
            self.end_headers()
            try:
                self.wfile.flush()
                time.sleep(route.delay)
                for _ in range(route.repeat):
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size cap or a timeout): that is what is being tested

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


class MailRecorder:
    """aiosmtpd handler: keeps accepted messages; refuses recipients containing 'reject' (550) and
    answers the first `tempfail` DATA commands with 451."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Envelope] = []
        self.tempfail = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if "reject" in address:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.tempfail > 0:
            self.tempfail -= 1
            return "451 4.3.0 try again later"
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or b""))
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on a free loopback port, in its own thread and event loop."""

    def __init__(self) -> None:
        self.recorder = MailRecorder()
        self.port = free_port()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def free_port() -> int:
    """A loopback port nothing listens on (bound and released): also a 'service down' address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
