"""Pacing side by side: the run's throttle against ``asynciolimiter`` (issue 11, goals 1-2).

Each pacer sends requests through a fake transport, in-process: latency 50 +- 20 ms
(uniform), the server checking a *sliding one-second* limit when a request arrives (half
the latency after it left; a refused request is not counted), 32 workers, a pushed-back
request retried. Reported per run: accepted/limit (accepted requests over the time from the
first start to the last answer), the most requests that *arrived* in any one second (at or
under the limit means none was over), pushbacks, and client CPU per request (the process's
CPU time, the fake server's included, over the requests sent).

Pacers: ``throttle`` is :class:`runner.execute.AdaptiveThrottle` (grid at 0.98 of the
rate); ``asynciolimiter`` is ``asynciolimiter.Limiter`` at the same 0.98 of the rate behind
the same semaphore, at its default ``max_burst=5`` and at ``max_burst=1`` (only if the
package is installed: ``pip install asynciolimiter``; it is not a dependency).

The second table is an unknown limit: the campaign asks 300/s, the server allows 200/s.

Measured on the 2-core dev machine (Python 3.11, load ~2 from other work), asynciolimiter
1.2.0 on the path: ``PYTHONPATH=<dir with asynciolimiter> .venv/bin/python -m bench.pacing``
(8 s per run, 20 s for the unknown limit):

============================  =====  =====  =========  =========  =======
pacer                         limit  ratio  max in 1s  pushbacks  CPU/req
============================  =====  =====  =========  =========  =======
throttle                         50  0.976         50          0  0.48 ms
asynciolimiter max_burst=5       50  0.969         51          3  0.46 ms
asynciolimiter max_burst=1       50  0.969         51          2  0.46 ms
throttle                        200  0.973        200          0  0.25 ms
asynciolimiter max_burst=5      200  0.973        200          0  0.26 ms
asynciolimiter max_burst=1      200  0.973        200          0  0.26 ms
throttle                        500  0.971        496          0  0.15 ms
asynciolimiter max_burst=5      500  0.972        496          0  0.16 ms
asynciolimiter max_burst=1      500  0.952        490          0  0.16 ms
============================  =====  =====  =========  =========  =======

An earlier run (6 s each): throttle 0.974 / 0.970 / 0.972, asynciolimiter 0.970-0.975 /
0.965-0.970 / 0.944-0.971, no window over and no pushback for either; the throttle as it
was before the grid (timed from the previous actual start): 0.954 / 0.901 / 0.840.

Unknown limit (server 200/s, campaign 300/s, 20 s): 0.958 of the limit overall, >= 0.90
from the first second, 0.920-0.995 per second after 10 s, 85 pushbacks (83 in the first
seconds, then one per probe cycle). The halving throttle before: 0.523, 169 pushbacks in
15 s, seconds alternating between 200 and 0 answers.

CPU per request includes the fake server and the bench's own workers; it compares pacers,
it is not the runner's cost per grant.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from runner.execute import AdaptiveThrottle

CONCURRENCY = 32
LATENCY_S = (0.030, 0.070)
HEADROOM = 0.98


class Pacer(Protocol):
    def slot(self) -> contextlib.AbstractAsyncContextManager[None]: ...
    def pushed_back(self, retry_after: float | None) -> None: ...
    def succeeded(self) -> None: ...


class LibraryPacer:
    """``asynciolimiter.Limiter`` behind a semaphore: pacing only, no adaptation."""

    def __init__(self, rate: float, concurrency: int, max_burst: int) -> None:
        import asynciolimiter  # optional: only when installed

        self._limiter = asynciolimiter.Limiter(rate * HEADROOM, max_burst=max_burst)
        self._slots = asyncio.Semaphore(concurrency)
        self.pushbacks = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            await self._limiter.wait()
            yield

    def pushed_back(self, retry_after: float | None) -> None:
        self.pushbacks += 1

    def succeeded(self) -> None:
        pass


@dataclass
class FakeServer:
    """A sliding one-second limit checked on arrival; latency split both ways."""

    limit: int
    rng: random.Random
    accepted: deque[float] = field(default_factory=deque)
    arrivals: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    refused_at: list[float] = field(default_factory=list)

    async def call(self) -> bool:
        latency = self.rng.uniform(*LATENCY_S)
        await asyncio.sleep(latency / 2)
        now = time.monotonic()
        self.arrivals.append(now)
        window = self.accepted
        while window and window[0] <= now - 1.0:
            window.popleft()
        ok = len(window) < self.limit
        if ok:
            window.append(now)
        else:
            self.refused_at.append(now)
        await asyncio.sleep(latency / 2)
        if ok:
            self.answers.append(time.monotonic())
        return ok


@dataclass
class Result:
    pacer: str
    limit: int
    asked: float
    accepted: int
    seconds: float
    max_in_1s: int
    pushbacks: int
    late_pushbacks: int  # after the first 10 s
    cpu_ms_per_request: float
    per_second: list[int]

    @property
    def ratio(self) -> float:
        return self.accepted / self.seconds / self.limit


def max_in_window(times: list[float], width: float = 1.0) -> int:
    """The most *times* in any half-open window [t, t + width)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


async def drive(pacer: Pacer, server: FakeServer, n: int) -> None:
    todo = deque(range(n))

    async def worker() -> None:
        while todo:
            job = todo.popleft()
            async with pacer.slot():
                ok = await server.call()
                if ok:
                    pacer.succeeded()
                else:
                    pacer.pushed_back(None)
            if not ok:
                todo.append(job)  # retried, like the client's retry loop

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def run_one(name: str, limit: int, asked: float, n: int, seed: int = 1) -> Result:
    server = FakeServer(limit, random.Random(seed))

    async def main() -> tuple[float, float]:
        pacer: Pacer
        if name == "throttle":
            pacer = AdaptiveThrottle(asked, CONCURRENCY)
        else:
            pacer = LibraryPacer(asked, CONCURRENCY, max_burst=int(name.rsplit("=", 1)[1]))
        start = time.monotonic()
        await drive(pacer, server, n)
        return start, time.monotonic()

    cpu = time.process_time()
    start, _ = asyncio.run(main())
    cpu = time.process_time() - cpu
    end = server.answers[-1]
    per_second = [0] * (int(end - start) + 1)
    for t in server.answers:
        per_second[int(t - start)] += 1
    return Result(
        name,
        limit,
        asked,
        len(server.answers),
        end - start,
        max_in_window(server.arrivals),
        len(server.refused_at),
        sum(t >= start + 10 for t in server.refused_at),
        cpu / len(server.arrivals) * 1000,
        per_second,
    )


def pacers() -> list[str]:
    names = ["throttle"]
    try:
        import asynciolimiter  # noqa: F401
    except ImportError:
        print("(asynciolimiter not installed: `pip install asynciolimiter` to compare)")
    else:
        names += ["asynciolimiter max_burst=5", "asynciolimiter max_burst=1"]
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pacing", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run")
    parser.add_argument("--limits", default="50,200,500", help="known limits to run at")
    parser.add_argument("--unknown", type=float, default=20.0, help="seconds, unknown limit")
    args = parser.parse_args(argv)
    # a warning per pushback would bury the table
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    names = pacers()
    print(f"{'pacer':<28} {'limit':>5} {'ratio':>6} {'max/1s':>6} {'pushb':>5} {'CPU/req':>8}")
    for limit in (int(x) for x in args.limits.split(",") if x):
        for name in names:
            r = run_one(name, limit, limit, int(limit * args.seconds))
            print(
                f"{r.pacer:<28} {limit:>5} {r.ratio:>6.3f} {r.max_in_1s:>6} "
                f"{r.pushbacks:>5} {r.cpu_ms_per_request:>6.3f}ms"
            )
    if args.unknown > 0:
        limit, asked = 200, 300.0
        r = run_one("throttle", limit, asked, int(limit * args.unknown))
        steady = r.per_second[10:-1] or r.per_second[:-1]
        first = next((i for i, c in enumerate(r.per_second) if c >= 0.9 * limit), len(r.per_second))
        print(
            f"\nunknown limit: server {limit}/s, campaign {asked:g}/s, {r.seconds:.1f} s: "
            f"ratio {r.ratio:.3f}, pushbacks {r.pushbacks} ({r.late_pushbacks} after 10 s), "
            f"first second >= 0.90: {first}, "
            f"after 10 s per-second accepted {min(steady)}-{max(steady)} "
            f"({min(steady) / limit:.3f}-{max(steady) / limit:.3f}), "
            f"CPU/req {r.cpu_ms_per_request:.3f} ms"
        )
        print("accepted per second:", r.per_second[:-1])


if __name__ == "__main__":
    main()
