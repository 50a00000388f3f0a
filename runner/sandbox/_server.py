"""Serving a sandbox with uvicorn in a background thread, on a socket bound up front.

The server binds its socket itself (port 0 picks a free one), hands it to uvicorn, and
waits until uvicorn reports ``started``. After :meth:`SandboxServer.stop` it can be started
again on the same port, keeping its in-memory state (like a vendor briefly offline); a
new server on the same ``state_file`` shows a restart from disk. Stopping compacts the
state file into one JSON document.

uvicorn parses HTTP with ``httptools`` when it is installed (26-30 % less CPU a grant
than the pure-Python ``h11``, see ``bench/README.md``) and with ``h11`` otherwise;
``uvloop``, when installed, runs the event loop. Neither is a dependency: both protocols
behave the same here.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from runner.errors import EnvironmentProblem

from ._app import DROP_EXTENSION, create_app
from ._config import SandboxConfig
from ._core import Sandbox

__all__ = ["SandboxServer"]

_START_TIMEOUT = 15.0


def _droppable(app: ASGIApp, abort: Callable[[], None]) -> ASGIApp:
    """*app*, given a way (``abort``) to drop its HTTP connection without an answer."""

    async def droppable(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("extensions", {})[DROP_EXTENSION] = abort
        await app(scope, receive, send)

    return droppable


class _DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a way for the app to abort its connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = _droppable(self.app, self._abort)

    def _abort(self) -> None:
        self.transport.abort()


@functools.cache
def _protocol() -> type[asyncio.Protocol]:
    """The HTTP protocol to serve with: httptools' when installed, else h11's."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return _DroppingH11Protocol

    class _DroppingHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, plus a way for the app to abort its connection."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app = _droppable(self.app, self._abort)

        def _abort(self) -> None:
            self.transport.abort()

    return _DroppingHttpToolsProtocol


class SandboxServer:
    """One sandbox on a loopback (or any) address: ``start()``/``stop()`` or ``with``."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.sandbox = Sandbox(self.config)
        self.port = self.config.port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is serving now."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SandboxServer:
        """Bind the socket, start uvicorn in a thread and wait until it serves."""
        if self.running:
            return self
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.sandbox),
            http=_protocol(),
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise EnvironmentProblem(
                    f"the sandbox did not start on {self.base_url}",
                    hint="see the log above for uvicorn's reason",
                )
            time.sleep(0.01)
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
        # sockets whose proto says TCP, and accepted sockets inherit it. With Nagle on, the
        # body uvicorn writes after the headers waits for the client's delayed ACK: ~40 ms
        # per answer on a keep-alive connection.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.port))
        except OSError as exc:
            sock.close()
            raise EnvironmentProblem(
                f"cannot listen on {self.config.host}:{self.port}: {exc.strerror or exc}",
                hint="choose another --port (0 picks a free one) or stop what uses it",
            ) from exc
        return sock

    def stop(self) -> None:
        """Shut down cleanly (in-flight requests get a moment to finish), then compact the
        state file (one JSON document again; see ``runner.sandbox._state``)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join()
        self._server = self._thread = None
        self.sandbox.context.store.compact()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        thread = self._thread
        while thread is not None and thread.is_alive():
            thread.join(0.5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SandboxServer {self.base_url} {state}>"
