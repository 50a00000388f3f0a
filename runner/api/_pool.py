"""The client's connection pool: httpcore's, with a cheaper choice of connection.

httpcore 1.0.x re-plans its whole pool whenever a request arrives or an answer is closed
(``_assign_requests_to_connections``), and that dominated the client's CPU (a cProfile of
``runner run``, 3,000 grants at 300 requests/s, 32 at a time: 23 s of the run's 62 s):

- each call checks *every* idle connection for expiry (a ``getpeername`` and a ``poll``
  through anyio each) and counts the connections once per idle connection (quadratic:
  1,300 ``is_idle`` calls a request);
- it gives a queued request the *first* idle connection even when another request was
  given that same connection and has not started on it yet; the later one then fails with
  ``ConnectionNotAvailable`` and starts over (and re-plans the pool again);
- once it holds more connections than ``max_keepalive_connections`` in all, it closes
  every idle one.

:class:`LeanPool` keeps the rest of httpcore (connections, streams, errors, timeouts) and
replaces only that choice: a queued request gets the most recently used idle connection
no other request holds, checked for expiry (and a closed socket) then and only then; a
new connection if none is left and the pool has room; otherwise it waits as before. Idle
connections beyond ``max_keepalive_connections`` are closed, the oldest first.

It uses httpcore's internals (``_requests``, ``_connections``, the pool request's
``connection``; httpcore is pinned at 1.0.9 in ``uv.lock``): :func:`use_lean_pool` swaps
only a pool of exactly httpcore's class, and ``tests/api/test_api_pool.py`` checks the
choice against fake connections and a real sandbox.
"""

from __future__ import annotations

import httpcore
import httpx
from httpcore import AsyncConnectionInterface

__all__ = ["LeanPool", "use_lean_pool"]


class LeanPool(httpcore.AsyncConnectionPool):
    """httpcore's pool with an O(connections) choice of connection per request."""

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        self._connections = [c for c in self._connections if not c.is_closed()]
        held = {id(r.connection) for r in self._requests if r.connection is not None}
        # oldest first, so pop() gives the most recently used connection
        idle = [c for c in self._connections if id(c) not in held and c.is_idle()]
        closing: list[AsyncConnectionInterface] = []
        for pool_request in [r for r in self._requests if r.is_queued()]:
            connection = self._usable(pool_request.request.url.origin, idle, closing)
            if connection is not None:
                pool_request.assign_to_connection(connection)
            # else the pool is full of busy connections: the request waits for one
        closing += self._surplus(idle)
        return closing

    def _usable(
        self,
        origin: httpcore.Origin,
        idle: list[AsyncConnectionInterface],
        closing: list[AsyncConnectionInterface],
    ) -> AsyncConnectionInterface | None:
        """The most recently used idle connection to *origin* still open, or a new one.

        What it takes leaves *idle*; expired connections it meets go to *closing*, and so
        does the oldest idle connection elsewhere when a new one needs its place.
        """
        for connection in [c for c in reversed(idle) if c.can_handle_request(origin)]:
            idle.remove(connection)
            if not connection.has_expired():
                return connection
            self._drop(connection, closing)
        if len(self._connections) >= self._max_connections and idle:
            self._drop(idle.pop(0), closing)
        if len(self._connections) >= self._max_connections:
            return None
        connection = self.create_connection(origin)
        self._connections.append(connection)
        return connection

    def _drop(
        self, connection: AsyncConnectionInterface, closing: list[AsyncConnectionInterface]
    ) -> None:
        self._connections.remove(connection)
        closing.append(connection)

    def _surplus(self, idle: list[AsyncConnectionInterface]) -> list[AsyncConnectionInterface]:
        """Idle connections beyond the keep-alive limit, the oldest first, out of the pool."""
        surplus: list[AsyncConnectionInterface] = []
        for connection in idle[: max(0, len(idle) - self._max_keepalive_connections)]:
            self._drop(connection, surplus)
        return surplus


def use_lean_pool(client: httpx.AsyncClient) -> None:
    """Give *client*'s default transport (not a mount, not one passed in) a LeanPool."""
    transport = client._transport
    if not isinstance(transport, httpx.AsyncHTTPTransport):
        return
    pool = transport._pool
    if type(pool) is httpcore.AsyncConnectionPool:
        pool.__class__ = LeanPool  # the same state; only the choice of connection differs
