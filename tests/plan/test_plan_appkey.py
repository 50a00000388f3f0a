"""Planning refuses a campaign that holds the appkey outside api.appkey, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import InvalidInput
from runner.ops.plan import preview_campaign
from runner.plan import load_plan
from tests.plan.helpers import AUDIENCE, TODAY, campaign_text, line_of, voucher, write_campaign

APPKEY = "plan-SECRET-appkey-9c41"
ENV = {"WAIQIN_OPENID": "open-1", "WAIQIN_APPKEY": APPKEY}


def written_besides(folder: Path, campaign: Path) -> bytes:
    """The bytes of every file under ``folder`` except the campaign file itself."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p != campaign]
    return b"".join(p.read_bytes() for p in files)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"remark": "${WAIQIN_APPKEY}"}, "remark"),
        ({"remark": '"说明 ${WAIQIN_APPKEY}"'}, "remark"),
        ({"comment": APPKEY}, "comment"),
    ],
)
def test_preview_refuses_the_appkey_in_a_voucher_and_writes_nothing(
    tmp_path: Path, extra: dict[str, str], key: str
) -> None:
    """`runner plan` refuses it at the key path and line, and no file holds the value."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(**extra)))
    state = tmp_path / "state"
    with pytest.raises(InvalidInput) as caught:
        preview_campaign(path, state, env=ENV, today=TODAY)
    (problem,) = caught.value.problems()
    assert problem.where.yaml_path == f"vouchers.ten-off.{key}"
    assert problem.where.line == line_of(path, f"    {key}:")
    assert "appkey" in problem.message
    assert APPKEY not in f"{caught.value}\n{problem.as_dict()}"
    assert not state.exists()
    assert APPKEY.encode() not in written_besides(tmp_path, path)


def test_load_plan_refuses_the_appkey_in_a_voucher_name(tmp_path: Path) -> None:
    """A voucher name built from ${WAIQIN_APPKEY} is refused at vouchers.<key>.name."""
    text = campaign_text().replace("name: 满100减10", "name: 券${WAIQIN_APPKEY}")
    path = write_campaign(tmp_path, text)
    with pytest.raises(InvalidInput) as caught:
        load_plan(path, env=ENV, today=TODAY)
    (problem,) = caught.value.problems()
    assert (problem.where.yaml_path, problem.where.line) == (
        "vouchers.ten-off.name",
        line_of(path, "name: 券"),
    )
    assert "'name'" in problem.message
    assert APPKEY not in str(caught.value)


def test_audience_path_holding_the_appkey_is_refused_without_echo(tmp_path: Path) -> None:
    """An audience file path built from the appkey is refused before any "not found" quotes it."""
    audiences = AUDIENCE.format(key="cm_code").replace(
        "file: customers.csv", "file: exports/${WAIQIN_APPKEY}.csv"
    )
    path = write_campaign(tmp_path, campaign_text(audiences=audiences))
    with pytest.raises(InvalidInput) as caught:
        load_plan(path, env=ENV, today=TODAY)
    (problem,) = caught.value.problems()
    assert problem.where.yaml_path == "audiences.east.file"
    assert problem.where.line == line_of(path, "file: exports/")
    assert "not found" not in problem.message
    assert APPKEY not in f"{caught.value}\n{problem.as_dict()}"
