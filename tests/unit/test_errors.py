"""The exit-code policy: pinned numbers, one ExitCode per error class, located OS errors."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from runner import errors
from runner.errors import ExitCode, RunnerError, StateDirUnusable


def _all_subclasses(cls: type[RunnerError]) -> list[type[RunnerError]]:
    found: list[type[RunnerError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_exit_code_numbers_are_pinned() -> None:
    """The numbers users and scripts see never change: 0, 1, 2, 3, 4 and 130."""
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "INVALID": 2,
        "REVIEW": 3,
        "ENVIRONMENT": 4,
        "INTERRUPTED": 130,
    }


def test_every_error_class_carries_an_exit_code_member() -> None:
    """Each RunnerError class in runner.errors has an ExitCode member as its exit code."""
    classes = [RunnerError, *_all_subclasses(RunnerError)]
    assert len(classes) > 15
    for cls in classes:
        assert isinstance(cls.exit_code, ExitCode), cls


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("SpecError", ExitCode.INVALID),
        ("UsageError", ExitCode.INVALID),
        ("RemoteVoucherExists", ExitCode.REVIEW),
        ("LedgerError", ExitCode.ENVIRONMENT),
        ("StateDirUnusable", ExitCode.ENVIRONMENT),
        ("CredentialsRejected", ExitCode.ENVIRONMENT),
        ("OutcomeUnknown", ExitCode.FAILED),
    ],
)
def test_error_classes_map_to_their_documented_codes(name: str, code: ExitCode) -> None:
    """The module docstring's tree holds: each class named there ends with its code."""
    cls = getattr(errors, name)
    assert cls.exit_code is code
    assert name in (errors.__doc__ or "")


@pytest.mark.parametrize("gone", ["PlanError", "Interrupted", "Transient"])
def test_classes_nothing_raises_are_gone(gone: str) -> None:
    """Error classes that nothing raised are no longer part of runner.errors."""
    assert not hasattr(errors, gone)
    assert gone not in errors.__all__


def test_a_full_disk_is_named_in_plain_words_at_the_file(tmp_path: Path) -> None:
    """ENOSPC becomes StateDirUnusable saying the disk is full, located at the target file."""
    target = tmp_path / "results.csv"
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "results.csv.x.tmp"))
    err = StateDirUnusable.from_os_error(full, "the result file", target)
    assert err.exit_code == ExitCode.ENVIRONMENT
    assert err.message == "cannot write the result file: the disk is full"
    assert err.where.file == str(target)
    assert err.hint is not None
    assert "rerun" in err.hint
