"""A loopback proxy in front of a sandbox: it records every request path and can answer
in the sandbox's place (a gateway that mangles answers), at the HTTP level only.

``runner`` commands (in this process or a child) reach it like any vendor; the sandbox
behind it applies what it is sent, so a write the proxy answers with garbage was applied
all the same: exactly the case reconciliation exists for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

#: Given the operation, the sandbox's status and body: None keeps the answer, else the
#: (status, content type, body) to send instead.
Rewrite = Callable[[str, int, bytes], tuple[int, str, bytes] | None]


@dataclass
class Seen:
    """What the proxy saw of one request."""

    operation: str
    openid: str
    timestamp: str
    digest: str


@dataclass
class Proxy:
    """The running proxy: its base URL, the requests seen, and the rewrite in force."""

    upstream: str
    rewrite: Rewrite | None = None
    seen: list[Seen] = field(default_factory=list)
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def digests(self) -> set[str]:
        with self._lock:
            return {s.digest for s in self.seen}

    def record(self, path: str) -> str:
        parts = path.split("/")
        operation = parts[4] if len(parts) > 4 else ""
        if len(parts) >= 9:
            with self._lock:
                self.seen.append(Seen(parts[4], parts[5], parts[6], parts[7]))
        return operation


def _handler(proxy: Proxy, client: httpx.Client) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            operation = proxy.record(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                upstream = client.post(
                    proxy.upstream + self.path,
                    content=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                )
            except httpx.HTTPError:
                self.close_connection = True  # the sandbox hung up: so do we
                return
            status, kind, content = (
                upstream.status_code,
                upstream.headers.get("Content-Type", "application/json"),
                upstream.content,
            )
            if proxy.rewrite is not None:
                changed = proxy.rewrite(operation, status, content)
                if changed is not None:
                    status, kind, content = changed
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the URL holds the digest

    return Handler


@contextmanager
def proxy_to(upstream: str, rewrite: Rewrite | None = None) -> Iterator[Proxy]:
    """A proxy on 127.0.0.1 (a free port) forwarding to *upstream* until the block ends."""
    proxy = Proxy(upstream.rstrip("/"), rewrite)
    with httpx.Client(timeout=30) as client:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, client))
        server.daemon_threads = True
        proxy.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, name="proxy", daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
