"""The commands' use cases, one module per command; ``runner/cli.py`` only parses and wires.

=================  ======================================  ============================
command            module                                  returns
=================  ======================================  ============================
``plan``           :mod:`runner.ops.plan`                  ``PlanResult`` (a preview)
``run``            :mod:`runner.ops.run`                   ``RunResult`` (``RunSummary``)
``retry-failed``   :mod:`runner.ops.run`                   ``RunResult``
``status``         :mod:`runner.ops.status`                ``StatusReport``
``verify``         :mod:`runner.ops.verify`                ``RunResult``
``adopt``          :mod:`runner.ops.adopt`                 ``RunResult`` (``AdoptSummary``)
``finish``         :mod:`runner.ops.lifecycle`             ``LifecycleResult``
``extend``         :mod:`runner.ops.lifecycle`             ``LifecycleResult``
``report``         :mod:`runner.ops.report`                ``ReportSummary`` (the files)
``review``         :mod:`runner.ops.review`                ``ReviewListing`` / ``ReviewRecorded``
``init``           :mod:`runner.ops.init`                  ``ScaffoldResult`` (paths)
``demo``           :mod:`runner.ops.demo`                  an exit code
=================  ======================================  ============================

``watch`` and ``approve`` (the drop folder) live in :mod:`runner.inbox`.

Each takes the campaign file and typed options and returns a typed result
(:mod:`runner.summaries`); what they share (credentials, opening the ledger, the vendor
client, recording how a run ended) is in :mod:`runner.ops._session` and
:mod:`runner.ops._recording`.
"""

from __future__ import annotations

from runner.ops._recording import RunResult
from runner.ops._session import RunOptions, credentials_for, tenant_of

__all__ = ["RunOptions", "RunResult", "credentials_for", "tenant_of"]
