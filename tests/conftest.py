"""What every test gets: clean logging afterwards, and the slow scenarios spread out.

``runner.logs`` keeps module-level state (structlog's configuration and the secrets to
scrub); a test that configures logging or registers a secret must not leak either into
the next test, which under ``pytest -n`` may be any test of the suite.

Tests marked ``slow`` (long chaos scenarios, still run by ``make test``) are spread evenly
over the collection, each at the head of an equal share of the quick ones. ``make test``
runs the suite with pytest-xdist, which hands each worker a stretch of the collection: so
every worker gets its share of the long scenarios and starts them early, instead of one
worker getting all of ``tests/execute`` and finishing last. Order never matters otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner import logs


@pytest.fixture(autouse=True)
def _clean_logs() -> Iterator[None]:
    """Logging configuration and registered secrets are forgotten after each test."""
    yield
    logs.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put one slow test at the head of each of len(slow) equal stretches of the rest,
    taking the slow tests from their files in turn (the long ones of one file are alike).
    """
    slow = _round_robin_by_file(
        [item for item in items if item.get_closest_marker("slow") is not None]
    )
    if not slow or len(slow) == len(items):
        return
    rest = [item for item in items if item.get_closest_marker("slow") is None]
    spread: list[pytest.Item] = []
    for n, item in enumerate(slow):
        start, stop = n * len(rest) // len(slow), (n + 1) * len(rest) // len(slow)
        spread += [item, *rest[start:stop]]
    items[:] = spread


def _round_robin_by_file(items: list[pytest.Item]) -> list[pytest.Item]:
    per_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        per_file.setdefault(item.nodeid.split("::")[0], []).append(item)
    queues = list(per_file.values())
    out: list[pytest.Item] = []
    while queues:
        out += [queue.pop(0) for queue in queues]
        queues = [queue for queue in queues if queue]
    return out
