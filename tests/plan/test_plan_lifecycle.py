"""judge_lifecycle: a created voucher's end date and finish against the ledger (pure)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from runner.campaign import Campaign, load_campaign
from runner.ledger import ChangeOrigin, ChangeRecord, VoucherLifecycle
from runner.plan import judge_lifecycle

from .helpers import END, campaign_text, voucher, write_campaign

TODAY = date(2027, 3, 10)
LATER = "2027-06-30"


def _campaign(tmp_path: Path, **extra: str) -> Campaign:
    """The one-voucher test campaign (ten-off, 2027-03-01 … END), voucher keys added."""
    end = extra.pop("end", END)
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(end=end, **extra)))
    return load_campaign(path, today=TODAY, past_end_ok=True)


def _change(
    action: str = "end_date",
    end_date: str | None = LATER,
    *,
    state: str = "done",
    origin: ChangeOrigin = "campaign",
    previous: str = END,
    file_end_date: str | None = None,
) -> ChangeRecord:
    values: dict[str, Any] = {
        "voucher_key": "ten-off",
        "action": action,
        "end_date": end_date,
        "previous_end_date": previous,
        "origin": origin,
        "file_end_date": file_end_date,
        "change_id": "ten-off:1",
        "state": state,
        "attempts": 1,
        "msg_id": None,
        "sent_at": None,
        "last_error": None,
        "return_code": None,
        "return_msg": None,
        "created_at": "2027-03-05T10:00:00.000+08:00",
        "updated_at": "2027-03-05T10:00:01.000+08:00",
    }
    return ChangeRecord(**values)


def _life(*changes: ChangeRecord, created_end: str = END) -> VoucherLifecycle:
    done_ends = [c for c in changes if c.action == "end_date" and c.state == "done"]
    finishes = [c for c in changes if c.action == "finish" and c.state == "done"]
    return VoucherLifecycle(
        voucher_key="ten-off",
        created_end_date=created_end,
        end_date=done_ends[-1].end_date if done_ends else created_end,
        finished=bool(finishes),
        finished_at=finishes[0].updated_at if finishes else None,
        latest=changes[-1] if changes else None,
        last_end_change=done_ends[-1] if done_ends else None,
        history=changes,
    )


def _judge(campaign: Campaign, life: VoucherLifecycle | None, today: date = TODAY) -> Any:
    states = {} if life is None else {"ten-off": "created"}
    known = {} if life is None else {"ten-off": life}
    return judge_lifecycle(campaign, states, known, today)


def test_a_new_end_date_of_a_created_voucher_is_an_extend(tmp_path: Path) -> None:
    """The file's later end date is one `extend` step, wanted as that date, no problem."""
    lifecycle, problems = _judge(_campaign(tmp_path, end=LATER), _life())
    assert problems == []
    assert [s.text() for s in lifecycle.steps] == [f"extend ten-off: {END} → {LATER}"]
    assert [(w.end_date, w.finish) for w in lifecycle.wanted] == [(LATER, False)]


def test_an_earlier_end_date_still_ahead_is_a_shorten(tmp_path: Path) -> None:
    """An earlier end date that is not past is a `shorten` step (the vendor allows it)."""
    lifecycle, problems = _judge(_campaign(tmp_path, end="2027-03-20"), _life())
    assert problems == []
    assert [s.kind for s in lifecycle.steps] == ["shorten"]


def test_finished_true_is_a_finish_that_closes_the_voucher(tmp_path: Path) -> None:
    """`finished: true` is a `finish` step; the voucher takes no more grants."""
    lifecycle, problems = _judge(_campaign(tmp_path, finished="true"), _life())
    assert problems == []
    assert [s.text() for s in lifecycle.steps] == ["finish ten-off"]
    assert [(c.voucher_key, c.why) for c in lifecycle.closed] == [("ten-off", "finished")]


def test_an_end_date_a_command_set_leaves_the_file_behind(tmp_path: Path) -> None:
    """After `runner extend`, a file still saying the old date is behind, not a change."""
    extended = _change(origin="command", file_end_date=END)
    lifecycle, problems = _judge(_campaign(tmp_path), _life(extended))
    assert problems == []
    assert lifecycle.steps == ()
    assert [b.text() for b in lifecycle.behind] == [
        f"voucher 'ten-off' ends {LATER} (set by `runner extend`): update end_date to {LATER} "
        "in the campaign file"
    ]
    assert [w.end_date for w in lifecycle.wanted] == [None]


def test_a_file_moved_to_a_third_date_after_a_command_is_a_change(tmp_path: Path) -> None:
    """A file that says neither the command's date nor its own old one asks for a change."""
    extended = _change(origin="command", file_end_date=END)
    lifecycle, _problems = _judge(_campaign(tmp_path, end="2027-09-30"), _life(extended))
    assert lifecycle.behind == ()
    assert [s.text() for s in lifecycle.steps] == [f"extend ten-off: {LATER} → 2027-09-30"]


def test_a_moved_end_date_in_the_past_is_refused_at_its_key(tmp_path: Path) -> None:
    """A created voucher's end date moved before today is refused at vouchers.*.end_date."""
    lifecycle, problems = _judge(_campaign(tmp_path, end="2027-03-09"), _life())
    assert [p.where.yaml_path for p in problems] == ["vouchers.ten-off.end_date"]
    assert "in the past (today is 2027-03-10 in Beijing)" in problems[0].message
    assert problems[0].where.line is not None
    assert lifecycle.steps == ()


def test_an_unchanged_end_date_that_passed_is_expired_not_refused(tmp_path: Path) -> None:
    """A created voucher whose end date (unchanged) passed is closed as expired, no problem."""
    lifecycle, problems = _judge(_campaign(tmp_path), _life(), today=date(2027, 4, 2))
    assert problems == []
    assert [(c.why, c.since) for c in lifecycle.closed] == [("expired", END)]


def test_a_new_voucher_with_a_past_end_date_is_refused(tmp_path: Path) -> None:
    """A voucher never created whose end date passed is refused (the loader's old rule)."""
    _lifecycle, problems = _judge(_campaign(tmp_path), None, today=date(2027, 4, 2))
    assert [p.where.yaml_path for p in problems] == ["vouchers.ten-off.end_date"]


def test_finished_true_on_a_voucher_never_created_is_refused(tmp_path: Path) -> None:
    """`finished: true` needs a created voucher: refused at vouchers.*.finished."""
    _lifecycle, problems = _judge(_campaign(tmp_path, finished="true"), None)
    assert [p.where.yaml_path for p in problems] == ["vouchers.ten-off.finished"]
    assert "never created" in problems[0].message


def test_a_finished_voucher_refuses_a_new_end_date_and_wants_finished_in_the_file(
    tmp_path: Path,
) -> None:
    """Finished in the ledger: a new end date is refused, a file without finished: true is
    behind, and the voucher is closed."""
    finished = _change("finish", None, origin="command")
    lifecycle, problems = _judge(_campaign(tmp_path, end=LATER), _life(finished))
    assert [p.where.yaml_path for p in problems] == ["vouchers.ten-off.end_date"]
    assert "can no longer change" in problems[0].message
    assert [b.setting for b in lifecycle.behind] == ["finished"]
    assert [c.why for c in lifecycle.closed] == ["finished"]


def test_finishing_and_moving_the_end_date_at_once_is_refused(tmp_path: Path) -> None:
    """`finished: true` with a new end date in the same edit is refused at end_date."""
    _lifecycle, problems = _judge(_campaign(tmp_path, end=LATER, finished="true"), _life())
    assert [p.where.yaml_path for p in problems] == ["vouchers.ten-off.end_date"]
    assert "at once" in problems[0].message


def test_an_unsettled_change_is_pending(tmp_path: Path) -> None:
    """A change whose outcome is unknown is listed as pending for the run to settle."""
    lost = _change(state="unknown")
    lifecycle, _problems = _judge(_campaign(tmp_path, end=LATER), _life(lost))
    assert [c.change_id for c in lifecycle.pending] == ["ten-off:1"]
