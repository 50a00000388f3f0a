"""The sandbox's HTTP face: a Starlette app with the vendor's route and ``/sandbox/*`` tools.

``POST /api/voucher/v1/{operation}/{openid}/{timestamp}/{digest}/{msg_id}`` goes through,
in order: injected latency, the rate limit, a reset or 5xx fault (nothing applied), the
signature check and the operation, then maybe a lost response (applied, never answered).

Dropping a connection needs the server's help: the server (``_server``) puts a callable
under ``scope["extensions"][DROP_EXTENSION]`` that aborts the socket. Without it (another
ASGI server) the app raises :class:`ConnectionAbortedError` instead.

Sandbox-only, unsigned routes: ``GET /sandbox/inspect``, ``POST /sandbox/mark``
``{"voucherId", "used", "expired", "orderAmount"?, "at"?}`` (the used instances' order
amount and ``yyyy-MM-dd HH:mm:ss`` order time; default twice the face value, now),
``POST /sandbox/faults`` ``{"spec", "seed"?}`` and ``POST /sandbox/reset-counters``.
Bad input there gets HTTP 400 ``{"error", "hint"}``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from runner.errors import RunnerError, UsageError

from ._core import Answer, Sandbox
from ._grants import mark_order
from ._protocol import CODE_TOO_FREQUENT, MSG_TOO_FREQUENT, envelope

__all__ = ["API_PATH", "DROP_EXTENSION", "create_app"]

API_PATH = "/api/voucher/v1/{operation}/{openid}/{timestamp}/{digest}/{msg_id}"
DROP_EXTENSION = "runner.sandbox.drop_connection"
#: API_PATH as Starlette matches it (each parameter one non-empty path segment).
_API_ROUTE = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", API_PATH))
_JSON = "application/json;charset=utf-8"
_log = structlog.get_logger("runner.sandbox")

_HTML_5XX = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway"}


def create_app(sandbox: Sandbox) -> ASGIApp:
    """The ASGI app serving one sandbox.

    A ``POST`` to the vendor's route goes straight to its endpoint (Starlette's routing and
    middleware cost ~4 % of a grant's CPU); everything else, including a wrong method on
    that route (405), goes through the Starlette app, which routes it too.
    """
    api = _ApiEndpoint(sandbox)
    routed = Starlette(
        routes=[Route(API_PATH, endpoint=api, methods=["POST"]), *_tool_routes(sandbox)]
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = _API_ROUTE.fullmatch(scope["path"])
            if found is not None:
                scope["path_params"] = found.groupdict()
                await api(scope, receive, send)
                return
        await routed(scope, receive, send)

    return app


class _ApiEndpoint:
    """The vendor's one route, as a raw ASGI app so that it can hang up without answering."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params: dict[str, str] = scope["path_params"]
        operation, msg_id = params["operation"], params["msg_id"]
        body = await _read_body(receive)
        if body is None:
            return
        sandbox = self.sandbox
        sandbox.count(operation, "received")
        decision = sandbox.faults.decide(operation)
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if not sandbox.limiter.allow():
            sandbox.count(operation, "rate_limited")
            _log.info("sandbox request", operation=operation, msg_id=msg_id, outcome="rate_limited")
            await self._push_back(msg_id)(scope, receive, send)
            return
        if decision.kind == "reset":
            sandbox.count(operation, "reset")
            _log.info("sandbox request", operation=operation, msg_id=msg_id, outcome="reset")
            await _drop(scope, receive)
            return
        if decision.kind == "http_5xx":
            sandbox.count(operation, "http_5xx")
            _log.info("sandbox request", operation=operation, msg_id=msg_id, outcome="http_5xx")
            await _html_error(decision.status)(scope, receive, send)
            return
        answer = sandbox.answer(
            operation=operation,
            openid=params["openid"],
            timestamp=params["timestamp"],
            digest=params["digest"],
            body=body,
        )
        _log.info(
            "sandbox request",
            operation=operation,
            msg_id=msg_id,
            outcome="lost_response" if decision.kind == "lost_response" else "answered",
            return_code=answer.code,
        )
        response = _envelope_response(msg_id, answer)
        if decision.kind == "lost_response":
            sandbox.count(operation, "lost_response")
            delay = sandbox.faults.config.lost_response_delay
            if delay is None or not await _wait_unless_gone(receive, delay):
                await _drop(scope, receive)
                return
        await response(scope, receive, send)

    def _push_back(self, msg_id: str) -> Response:
        if self.sandbox.config.rate_mode == "refusal":
            return _envelope_response(msg_id, Answer(CODE_TOO_FREQUENT, MSG_TOO_FREQUENT))
        return Response(
            "Too Many Requests",
            status_code=429,
            headers={"Retry-After": "1"},
            media_type="text/plain",
        )


def _envelope_response(msg_id: str, answer: Answer) -> Response:
    body = envelope(msg_id, code=answer.code, message=answer.message, data=answer.data)
    return Response(body, media_type=_JSON)


def _html_error(status: int) -> Response:
    html = _HTML_5XX.format(status=status, reason=_REASONS.get(status, "Server Error"))
    return Response(html, status_code=status, media_type="text/html")


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client hung up first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _until_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _drop(scope: Scope, receive: Receive) -> None:
    """Abort the connection without a byte of response, and wait until it is gone."""
    drop: Callable[[], None] | None = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        raise ConnectionAbortedError("sandbox fault: connection dropped without a response")
    drop()
    await _until_gone(receive)


async def _wait_unless_gone(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``; False as soon as the client hangs up (nobody left to answer)."""
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    listener = asyncio.ensure_future(_until_gone(receive))
    done, pending = await asyncio.wait({sleeper, listener}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return listener not in done


def _tool_routes(sandbox: Sandbox) -> list[Route]:
    async def inspect(_request: Request) -> Response:
        return JSONResponse(sandbox.inspect())

    async def mark(request: Request) -> Response:
        data = await _json_object(request)
        voucher_id = str(data.get("voucherId", ""))
        order = mark_order(data.get("orderAmount"), data.get("at"))
        used, expired = _count(data, "used"), _count(data, "expired")
        return JSONResponse(sandbox.mark(voucher_id, used, expired, order))

    async def faults(request: Request) -> Response:
        data = await _json_object(request)
        spec, seed = data.get("spec", ""), data.get("seed")
        if not isinstance(spec, str) or not (seed is None or type(seed) is int):
            raise UsageError(
                "/sandbox/faults: spec must be a string and seed an integer",
                hint='post {"spec": "reset=0.1", "seed": 7}',
            )
        return JSONResponse({"faults": sandbox.set_faults(spec, seed)})

    async def reset_counters(_request: Request) -> Response:
        sandbox.reset_counters()
        return JSONResponse({"counters": {}})

    handlers: list[tuple[str, str, Callable[[Request], Awaitable[Response]]]] = [
        ("/sandbox/inspect", "GET", inspect),
        ("/sandbox/mark", "POST", mark),
        ("/sandbox/faults", "POST", faults),
        ("/sandbox/reset-counters", "POST", reset_counters),
    ]
    return [Route(path, _as_400(handler), methods=[method]) for path, method, handler in handlers]


def _as_400(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except RunnerError as err:
            return JSONResponse({"error": err.message, "hint": err.hint}, status_code=400)

    return endpoint


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UsageError(f"{request.url.path}: the body must be a JSON object")
    return data


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if type(value) is not int:
        raise UsageError(f"/sandbox/mark: {key} must be a whole number", hint="e.g. used: 2")
    return value
