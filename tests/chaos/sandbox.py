"""``runner sandbox`` in its own process, restartable on the same port with the same state.

The ledger is bound to its tenant, the base URL included, so a restarted sandbox must
listen where the first one did: the first start picks a free port, every restart asks
for that port again. Each start logs to its own file; the faults a sandbox injected are
counted from those logs (its in-memory counters die with a SIGKILL).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.execute.conftest import APPKEY, OPENID, REGISTRY, answers, runner_command

__all__ = ["FAULT_OUTCOMES", "SandboxProcess"]

#: The outcomes of a ``sandbox request`` log line that are injected faults or push-backs.
FAULT_OUTCOMES = ("rate_limited", "reset", "http_5xx", "lost_response")
_LISTENING = re.compile(r"sandbox listening on (http://\S+)")


class SandboxProcess:
    """One vendor for one campaign: started, SIGKILLed and started again on its port."""

    def __init__(self, folder: Path, *, seed: int, rate: float | None, faults: str) -> None:
        self.folder = folder
        self.seed = seed
        self.rate = rate
        self.faults = faults
        self.state_file = folder / "sandbox-state.json"
        self.base_url: str | None = None
        self.starts = 0
        self._port = 0
        self._child: subprocess.Popen[bytes] | None = None

    def _log(self, start: int) -> Path:
        return self.folder / f"sandbox-{start}.log"

    def start(self, timeout: float = 30.0) -> str:
        """Start it (on the first start's port) and wait until it answers; its base URL."""
        if self._child is not None:
            raise ValueError("the sandbox is running already")
        command = runner_command(
            "sandbox",
            "--port",
            str(self._port),
            "--customers",
            str(REGISTRY),
            "--state",
            str(self.state_file),
            "--seed",
            str(self.seed * 100 + self.starts),  # another fault sequence after each restart
            "--faults",
            self.faults,
            *(["--rate", str(self.rate)] if self.rate else []),
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
        env |= {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY, "PYTHONUNBUFFERED": "1"}
        log = self._log(self.starts)
        with log.open("wb") as out:
            self._child = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self._child.poll() is not None:
                raise RuntimeError(f"the sandbox ended at start: {log.read_text('utf-8')[-2000:]}")
            found = _LISTENING.search(log.read_text("utf-8", errors="replace"))
            if found and answers(found.group(1)):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not answer in {timeout} s")
            time.sleep(0.05)
        url = found.group(1)
        self._port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        if self.base_url is not None and url != self.base_url:
            raise RuntimeError(f"the sandbox came back at {url}, not {self.base_url}")
        self.base_url = url
        return url

    def kill(self) -> None:
        """SIGKILL it: no compaction, no goodbye; its state file stays as the kill left it."""
        if self._child is None:
            return
        self._child.send_signal(signal.SIGKILL)
        self._child.wait(timeout=30)
        self._child = None

    def stop(self) -> None:
        """Stop it the polite way (SIGTERM), or by SIGKILL if it does not end in 10 s."""
        if self._child is None:
            return
        self._child.terminate()
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._child = None

    def fault_counts(self) -> Counter[str]:
        """Faults and push-backs injected over every start, from the ``sandbox request`` lines."""
        counts: Counter[str] = Counter()
        for start in range(self.starts):
            for line in self._log(start).read_text("utf-8", errors="replace").splitlines():
                if '"sandbox request"' not in line:
                    continue
                try:
                    outcome = json.loads(line).get("outcome")
                except json.JSONDecodeError:  # a line cut short by a SIGKILL
                    continue
                if outcome in FAULT_OUTCOMES:
                    counts[outcome] += 1
        return counts
