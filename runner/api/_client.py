"""The async client of the voucher OpenAPI: one signed POST per attempt.

Writes (add, finish, modify, receive) are made exactly once here: whether to try again
after an unclear outcome is the executor's decision, never the client's. Reads are
idempotent and retried here with stamina on NotSent, PushedBack and OutcomeUnknown.

The URL holds the digest, so neither log lines nor exceptions ever contain it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar
from urllib.parse import quote

import httpx
import stamina
import structlog
from pydantic import BaseModel, ValidationError

from runner import __version__
from runner.api._credentials import Credentials
from runner.api._envelope import Envelope
from runner.api._models import (
    CUSTOMER_KEYS,
    MAX_PAGE_LENGTH,
    OPERATIONS,
    AddVoucherRequest,
    AddVoucherResponse,
    CmInfo,
    FinishVoucherRequest,
    GetCmInfosRequest,
    GetVoucherInfosRequest,
    ModifyVoucherEndDateRequest,
    QueryVoucherUsedInfoRequest,
    ReceiveVoucherRequest,
    UseStatus,
    VoucherInfo,
    VoucherUsage,
)
from runner.api._outcome import (
    MAX_HONOURED_RETRY_AFTER_S,
    Answer,
    OutcomeRules,
    body_too_large,
    classify_answer,
    from_transport_error,
    retry_wait,
    unexpected_data,
)
from runner.api._pacing import NoThrottle, Throttle, concurrency_of
from runner.api._pool import use_lean_pool
from runner.api._signing import beijing_timestamp, new_msg_id, sign
from runner.api._skew import SKEW_WINDOW_S, server_offset, skew_text
from runner.errors import (
    ApiError,
    ApiUnreachable,
    NotSent,
    OutcomeUnknown,
    PushedBack,
    UsageError,
)

__all__ = ["MAX_BODY_BYTES", "MAX_HONOURED_RETRY_AFTER_S", "VoucherClient"]

#: The most of one answer's body that is read (after decompression): a page of 1,000
#: vouchers with their customer lists fits many times over; a gateway streaming without end
#: (or a compression bomb) does not fill the memory. More is OutcomeUnknown.
MAX_BODY_BYTES = 64 * 1024 * 1024

_HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "Accept": "application/json",
    "User-Agent": f"campaign-runner/{__version__}",
}
_USE_STATUSES: tuple[UseStatus, ...] = ("0", "1", "2")
_log = structlog.get_logger("runner.api")

_MSG_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class _Identified(Protocol):
    """A listed item: every listing's items carry an ``id``."""

    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_Identified)


@dataclass(frozen=True, repr=False)
class _Signed:
    """One attempt's signed request. It holds the digest: never logged, never shown."""

    body: bytes
    url: str
    msg_id: str
    timestamp: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return f"_Signed(msg_id={self.msg_id!r})"


class VoucherClient:
    """Async client of the seven voucher endpoints around one ``httpx.AsyncClient``.

    Every HTTP attempt (each page, each retry) runs inside ``throttle.slot()``. Writes take
    an optional ``msg_id`` so that the caller can record it before the request leaves.
    The pool holds ``max_connections`` keep-alive connections (default: the throttle's
    ``concurrency``, else httpx's default).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout_s: float = 15.0,
        transient_messages: Iterable[str] = (),
        throttle: Throttle | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_read_attempts: int = 6,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_connections: int | None = None,
    ) -> None:
        if max_read_attempts < 1:
            raise ValueError("max_read_attempts must be at least 1")
        self._max_body_bytes = max_body_bytes
        self._clock_warned = False
        self._credentials = credentials
        self._rules = OutcomeRules(transient_messages=tuple(transient_messages))
        self._throttle: Throttle = throttle if throttle is not None else NoThrottle()
        self._max_read_attempts = max_read_attempts
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
            limits=_limits(max_connections or concurrency_of(self._throttle)),
        )
        if transport is None:
            use_lean_pool(self._http)

    def __repr__(self) -> str:
        return f"VoucherClient({self._credentials!r})"

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        """Close the connection pool (``async with`` does it for you)."""
        await self._http.aclose()

    # --- one attempt --------------------------------------------------------------------

    async def _attempt(
        self, operation: str, payload: Mapping[str, object], *, msg_id: str | None = None
    ) -> Envelope:
        """Sign and POST *payload* once; the OK envelope, or the classified error."""
        started = time.monotonic()
        async with self._throttle.slot():
            # signed inside the slot: the timestamp is taken when the request leaves, not
            # before a long wait for the rate limit or a Retry-After pause
            signed = self._sign(operation, payload, msg_id if msg_id is not None else new_msg_id())
            try:
                envelope, status = await self._exchange(operation, signed)
            except ApiError as err:
                if isinstance(err, PushedBack):
                    self._throttle.pushed_back(err.retry_after)
                _log_call(operation, signed.msg_id, err.status_code, err, started)
                raise
            self._throttle.succeeded()
        _log_call(operation, signed.msg_id, status, None, started)
        return envelope

    def _sign(self, operation: str, payload: Mapping[str, object], msg_id: str) -> _Signed:
        """Serialise the body once, sign exactly that text, and build the URL around it."""
        if not _MSG_ID.fullmatch(msg_id):
            raise ValueError("msg_id must be 1-64 letters, digits, '-' or '_'")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        creds = self._credentials
        timestamp = beijing_timestamp()
        digest = sign(body, creds.appkey, timestamp)
        path = f"/api/voucher/v1/{operation}/{quote(creds.openid, safe='')}/{timestamp}/{digest}"
        url = f"{creds.base_url}{path}/{msg_id}"
        return _Signed(
            body.encode("utf-8"),
            url,
            msg_id,
            timestamp,
            (url, path, digest, creds.appkey, *creds.redactor.secrets),
        )

    async def _exchange(self, operation: str, signed: _Signed) -> tuple[Envelope, int]:
        """POST the signed bytes; the OK envelope and HTTP status, or the classified error."""
        failure: ApiError | None = None
        try:
            answer = await self._post(signed)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            failure = from_transport_error(
                exc, operation=operation, msg_id=signed.msg_id, secrets=signed.secrets
            )
        if failure is not None:  # raised here: no chained httpx error keeps the URL
            raise failure
        self._check_server_clock(answer)
        if answer is None:
            raise body_too_large(operation, signed.msg_id, self._max_body_bytes)
        envelope = classify_answer(
            answer,
            operation=operation,
            msg_id=signed.msg_id,
            rules=self._rules,
            secrets=signed.secrets,
            sent_timestamp=signed.timestamp,
        )
        return envelope, answer.status

    async def _post(self, signed: _Signed) -> Answer | None:
        """POST and read at most :data:`MAX_BODY_BYTES` of the answer; None beyond that."""
        request = self._http.stream("POST", signed.url, content=signed.body, headers=_HEADERS)
        async with request as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._max_body_bytes:
                    return None
                chunks.append(chunk)
            return Answer(response.status_code, response.headers, b"".join(chunks))

    def _check_server_clock(self, answer: Answer | None) -> None:
        """Warn once per client when the server's Date header is far from our clock."""
        if answer is None or self._clock_warned:
            return
        offset = server_offset(answer.headers.get("Date"), datetime.now(UTC))
        if offset is not None and abs(offset) > SKEW_WINDOW_S:
            self._clock_warned = True
            _log.warning(
                "clocks differ",
                detail=skew_text(offset),
                offset_s=round(offset),
                hint="the vendor may refuse requests signed with this machine's time; "
                "fix the clock (NTP)",
            )

    # --- reads: retried -------------------------------------------------------------------

    async def _read(
        self, operation: str, payload: Mapping[str, object], decode: Callable[[Envelope], T]
    ) -> T:
        """One read, decoded, retried on NotSent/PushedBack/OutcomeUnknown up to
        max_read_attempts: an answer whose response_data has a shape we do not know is
        asked for again too, since a read changes nothing."""
        try:
            async for attempt in stamina.retry_context(
                on=lambda exc: retry_wait(exc, idempotent=True),
                attempts=self._max_read_attempts,
                timeout=None,
                wait_initial=0.2,
                wait_max=10.0,
            ):
                with attempt:
                    return decode(await self._attempt(operation, payload))
        except (NotSent, OutcomeUnknown) as err:
            raise ApiUnreachable(
                f"{operation}: no usable answer after {self._max_read_attempts} attempt(s); "
                f"last: {err.message}"
            ) from err
        raise AssertionError("stamina.retry_context ended without an attempt")  # pragma: no cover

    async def _pages(
        self,
        operation: str,
        payload_for: Callable[[int], Mapping[str, object]],
        page_length: int,
        parse: Callable[[object, str | None], R],
    ) -> list[R]:
        """Every distinct item of a paged read, parsed; pages 1, 2, ... are read in turn.

        It stops on a page shorter than *page_length* (or empty), and on a page that brings
        no id not seen already: a server that ignores paging answers the same items again.
        Repeated ids are dropped (with one warning per listing); new ones on the same page
        are kept and reading goes on.
        """
        items: list[R] = []
        seen: set[str] = set()
        warned = False
        for page_number in itertools.count(1):

            def decode(envelope: Envelope) -> list[R]:
                return [parse(raw, envelope.msg_id) for raw in _as_list(envelope, operation)]

            page = await self._read(operation, payload_for(page_number), decode)
            fresh = _unseen(page, seen)
            items.extend(fresh)
            if len(fresh) < len(page) and not warned:
                warned = True
                _warn_repeats(operation, page_number, len(page) - len(fresh))
            if len(page) < page_length or not fresh:
                break
        return items

    async def get_voucher_infos(
        self,
        *,
        start_create_date: str | date | None = None,
        end_create_date: str | date | None = None,
        start_modify_date: str | date | None = None,
        end_modify_date: str | date | None = None,
        page_length: int = MAX_PAGE_LENGTH,
    ) -> list[VoucherInfo]:
        """Every voucher created/modified in the given date range (all pages)."""
        operation = "getVoucherInfos"

        def payload_for(page_number: int) -> Mapping[str, object]:
            return _request(
                operation,
                GetVoucherInfosRequest,
                page_number=page_number,
                page_length=page_length,
                start_create_date=start_create_date,
                end_create_date=end_create_date,
                start_modify_date=start_modify_date,
                end_modify_date=end_modify_date,
            ).to_wire()

        payload_for(1)  # invalid arguments fail before anything is sent
        return await self._pages(
            operation, payload_for, page_length, _parser(VoucherInfo, operation)
        )

    async def get_cm_infos(
        self, voucher_id: str, *, page_length: int = MAX_PAGE_LENGTH
    ) -> list[CmInfo]:
        """Every customer holding *voucher_id* (all pages)."""
        operation = "getCmInfos"

        def payload_for(page_number: int) -> Mapping[str, object]:
            return _request(
                operation,
                GetCmInfosRequest,
                page_number=page_number,
                page_length=page_length,
                voucher_id=voucher_id,
            ).to_wire()

        payload_for(1)
        return await self._pages(operation, payload_for, page_length, _parser(CmInfo, operation))

    async def query_voucher_used_info(
        self,
        voucher_id: str,
        status: UseStatus | None = None,
        *,
        page_length: int = MAX_PAGE_LENGTH,
    ) -> list[VoucherUsage]:
        """Granted instances of *voucher_id* with *status*; None = unused, used and expired.

        The document shows no paging, yet a server may cap one answer: each status is read
        page by page like the other listings (see :meth:`_pages`). An instance id seen under
        an earlier status is not counted again (a server that ignores voucherStatus).
        """
        usages: dict[str, VoucherUsage] = {}
        for one in _USE_STATUSES if status is None else (status,):
            for usage in await self._used_info_pages(voucher_id, one, page_length):
                usages.setdefault(usage.id, usage)
        return list(usages.values())

    async def _used_info_pages(
        self, voucher_id: str, status: UseStatus, page_length: int
    ) -> list[VoucherUsage]:
        """Every instance of one use status (all pages); a missing use_status is filled in."""
        operation = "queryVoucherUsedInfo"

        def payload_for(page_number: int) -> Mapping[str, object]:
            return _request(
                operation,
                QueryVoucherUsedInfoRequest,
                page_number=page_number,
                page_length=page_length,
                voucher_id=voucher_id,
                voucher_status=status,
            ).to_wire()

        payload_for(1)
        usages = await self._pages(
            operation, payload_for, page_length, _parser(VoucherUsage, operation)
        )
        for usage in usages:
            if usage.use_status is None:
                usage.use_status = status
        return usages

    # --- writes: exactly one attempt ------------------------------------------------------

    async def call(self, operation: str, payload: Mapping[str, object]) -> object:
        """One attempt of any operation with a raw payload; the decoded ``response_data``."""
        if operation not in OPERATIONS:
            raise UsageError(
                f"unknown operation {operation!r}", hint=f"Use one of: {', '.join(OPERATIONS)}"
            )
        envelope = await self._attempt(operation, payload)
        return envelope.response_data

    async def add_voucher_info(self, req: AddVoucherRequest, *, msg_id: str | None = None) -> str:
        """Create a voucher (one attempt, never retried here); its voucherId.

        *msg_id* lets the caller record the request id before sending (default: a fresh one).
        """
        operation = "addVoucherInfo"
        envelope = await self._attempt(operation, req.to_wire(), msg_id=msg_id)
        data = envelope.response_data
        if isinstance(data, str) and data.strip().isdigit():
            return data.strip()
        return _parse(AddVoucherResponse, data, operation, envelope.msg_id).voucher_id

    async def finish_voucher(self, voucher_id: str, *, msg_id: str | None = None) -> None:
        """Stop a voucher (one attempt)."""
        operation = "finishVoucher"
        req = _request(operation, FinishVoucherRequest, voucher_id=voucher_id)
        await self._attempt(operation, req.to_wire(), msg_id=msg_id)

    async def modify_voucher_end_date(
        self, voucher_id: str, end_date: str | date, *, msg_id: str | None = None
    ) -> None:
        """Move a voucher's end date (yyyy-MM-dd) (one attempt)."""
        operation = "modifyVoucherEndDate"
        req = _request(
            operation, ModifyVoucherEndDateRequest, voucher_id=voucher_id, end_date=end_date
        )
        await self._attempt(operation, req.to_wire(), msg_id=msg_id)

    async def receive_voucher_info(
        self,
        voucher_id: str,
        *,
        cm_id: str | None = None,
        cm_code: str | None = None,
        cm_source_code: str | None = None,
        voucher_name: str | None = None,
        receive_time: str | datetime | None = None,
        msg_id: str | None = None,
    ) -> object:
        """Grant a voucher to the customer named by exactly one key (one attempt, never retried).

        Returns the raw ``response_data``; *msg_id* as for :meth:`add_voucher_info`.
        """
        operation = "receiveVoucherInfo"
        keys = {"cm_id": cm_id, "cm_code": cm_code, "cm_source_code": cm_source_code}
        given = [k for k in CUSTOMER_KEYS if keys[k] not in (None, "")]
        if len(given) != 1:
            raise UsageError(
                f"{operation} needs exactly one of {', '.join(CUSTOMER_KEYS)}; got "
                + (", ".join(given) if given else "none"),
                hint="Name the customer by one key only (the plan's key_kind column).",
            )
        req = _request(
            operation,
            ReceiveVoucherRequest,
            voucher_id=voucher_id,
            voucher_name=voucher_name,
            receive_time=receive_time,
            **{given[0]: keys[given[0]]},
        )
        envelope = await self._attempt(operation, req.to_wire(), msg_id=msg_id)
        return envelope.response_data


def _limits(concurrency: int | None) -> httpx.Limits:
    """A connection for each request the throttle lets run at once, each kept alive.

    httpx's default keeps 20 idle connections: with more requests in flight, connections
    would be closed and opened again, and httpcore's pool (1.0.x) closes *every* idle one
    once it holds more than that many connections in all.
    """
    if concurrency is None:
        return httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)


def _request(operation: str, model: type[M], **fields: object) -> M:
    """Build a request model; bad arguments become a UsageError before anything is sent."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise UsageError(
            f"{operation}: invalid request: {_first_error(exc)}",
            hint="Fix the argument named above; nothing was sent.",
        ) from None


def _parse(model: type[M], item: object, operation: str, msg_id: str | None) -> M:
    """Validate one item of response_data; a shape we do not know is OutcomeUnknown (with
    no chained ValidationError: that would carry the server's text along)."""
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        problem = _first_error(exc)
    raise unexpected_data(operation, msg_id, problem)


def _parser(model: type[M], operation: str) -> Callable[[object, str | None], M]:
    """One item of *operation*'s listing as *model* (see :func:`_parse`)."""

    def parse(item: object, msg_id: str | None) -> M:
        return _parse(model, item, operation, msg_id)

    return parse


def _unseen(page: Iterable[R], seen: set[str]) -> list[R]:
    """The items of *page* whose id is not in *seen* (first copy only); *seen* grows."""
    fresh: list[R] = []
    for item in page:
        if item.id not in seen:
            seen.add(item.id)
            fresh.append(item)
    return fresh


def _warn_repeats(operation: str, page_number: int, repeated: int) -> None:
    """Said once per listing: a page repeated ids already read."""
    _log.warning(
        "server seems to ignore paging",
        operation=operation,
        page_number=page_number,
        repeated_ids=repeated,
    )


def _as_list(envelope: Envelope, operation: str) -> list[object]:
    """A list response_data (null counts as empty); anything else is unexpected."""
    data = envelope.response_data
    if data is None:
        return []
    if isinstance(data, list):
        return data
    raise unexpected_data(operation, envelope.msg_id, f"expected a list, got {type(data).__name__}")


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(root)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _log_call(
    operation: str, msg_id: str, status: int | None, err: ApiError | None, started: float
) -> None:
    """One line per call; never the URL (it holds the digest)."""
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    if err is None:
        _log.debug(
            "api.call",
            operation=operation,
            msg_id=msg_id,
            status=status,
            outcome="ok",
            elapsed_ms=elapsed_ms,
        )
        return
    extra: dict[str, object] = {}
    for name in ("return_code", "return_msg", "retry_after"):
        value = getattr(err, name, None)
        if value is not None:
            extra[name] = value
    _log.warning(
        "api.call",
        operation=operation,
        msg_id=msg_id,
        status=status,
        outcome=type(err).__name__,
        elapsed_ms=elapsed_ms,
        **extra,
    )
