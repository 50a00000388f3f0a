"""Client CPU per request of an httpx AsyncClient against a sandbox over loopback.

The question (issue 11): httpcore asks ``sniffio`` which event loop runs every time it
sets up a lock, an event or a cancellation shield, that is several times per request; it
does so with ``import sniffio`` in a function body, and a failed import is not cached, so
without sniffio installed every request searches ``sys.path`` again.

``python -m bench.client_cpu URL [--requests N] [--hide-sniffio]`` sends N signed
getVoucherInfos calls (16 at a time) to the sandbox at URL and prints the CPU seconds this
process spent per request (``time.process_time``, user + system, all threads).
``--hide-sniffio`` makes ``import sniffio`` fail after the same search of ``sys.path``
that a missing module costs (a finder at the front of ``sys.meta_path`` searches for a
name that does not exist, then refuses), so both cases run in one benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.abc
import importlib.machinery
import sys
import time
from collections.abc import Sequence
from types import ModuleType

__all__ = ["cpu_per_request"]


class _HideSniffio(importlib.abc.MetaPathFinder):
    """``import sniffio`` costs what a missing module costs, then fails."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "sniffio":
            return None
        importlib.machinery.PathFinder.find_spec("sniffio_is_not_installed", path)
        raise ModuleNotFoundError("No module named 'sniffio'", name=fullname)


async def _run(base_url: str, requests: int, concurrency: int) -> float:
    import httpx

    from bench.sandbox_state import _call

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await _call(client, base_url, "getVoucherInfos", {})  # connections, imports
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                await _call(client, base_url, "getVoucherInfos", {})

        start = time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (time.process_time() - start) / requests


def cpu_per_request(base_url: str, requests: int, *, concurrency: int = 16) -> float:
    """CPU seconds this process spends per request (sniffio as the process finds it)."""
    return asyncio.run(_run(base_url, requests, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--hide-sniffio", action="store_true")
    args = parser.parse_args()
    if args.hide_sniffio:
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _HideSniffio())
    seconds = cpu_per_request(args.url, args.requests)
    print(f"{seconds * 1e6:.1f}")


if __name__ == "__main__":
    main()
