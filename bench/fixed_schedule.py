"""The baseline of ``bench.run_e2e``: plain httpx calls on a fixed schedule, no ledger.

``python -m bench.fixed_schedule BASE_URL --rate R --grants N [--first 1]`` creates one
voucher, then grants it to ``CUS000001``… (the sandbox's generated customers), request
*i* starting at ``t0 + i / (0.98 R)``, at most 32 in flight, each signed as
``runner.sandbox.testing`` signs. No retry, no record: what a 100-line script does.
Prints one JSON line: accepted grants, pushbacks, seconds of the grant phase, CPU seconds
of the grant phase (this process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx

from bench.sandbox_state import signed_request

HEADROOM = 0.98
_VOUCHER = {
    "name": "baseline",
    "startDate": "2099-03-01",
    "endDate": "2099-03-31",
    "money": "10",
    "payType": "UNLIMITED",
    "grantType": "HDFF",
    "eachCmNum": 1,
    "tradeRange": "1",
    "prodMode": "ALL",
}


async def _post(
    client: httpx.AsyncClient, base_url: str, op: str, payload: dict[str, object]
) -> httpx.Response:
    url, body = signed_request(base_url, op, payload)
    return await client.post(url, content=body)


async def run(
    base_url: str, rate: float, grants: int, first: int, concurrency: int
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        created = await _post(client, base_url, "addVoucherInfo", {**_VOUCHER, "num": grants})
        voucher_id = json.loads(created.json()["response_data"])["voucherId"]
        await asyncio.sleep(1.0)  # let the sandbox's one-second window empty
        slots = asyncio.Semaphore(concurrency)
        accepted = pushbacks = 0
        interval = 1.0 / (rate * HEADROOM)

        async def grant(i: int, at: float) -> None:
            nonlocal accepted, pushbacks
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with slots:
                payload = {"voucherId": voucher_id, "cmCode": f"CUS{first + i:06d}"}
                answer = await _post(client, base_url, "receiveVoucherInfo", payload)
            if answer.status_code == 200 and answer.json()["return_code"] == "0":
                accepted += 1
            else:
                pushbacks += 1

        cpu, t0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(grant(i, t0 + i * interval) for i in range(grants)))
        seconds, cpu = time.monotonic() - t0, time.process_time() - cpu
    return {"accepted": accepted, "pushbacks": pushbacks, "seconds": seconds, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--grants", type=int, required=True)
    parser.add_argument("--first", type=int, default=1, help="number of the first customer")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    figures = asyncio.run(run(args.base_url, args.rate, args.grants, args.first, args.concurrency))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
