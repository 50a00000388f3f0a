"""The appkey from a file (WAIQIN_APPKEY_FILE): one line, never echoed, never from a campaign."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from runner.api import ENV_APPKEY_FILE, Credentials
from runner.errors import InvalidInput, MissingCredentials
from runner.ops import credentials_for
from tests.campaign.helpers import VALID, load_text, replace

from .fakevendor import APPKEY, OPENID


def key_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "appkey"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def resolve(path: Path | str, **env: str) -> Credentials:
    return Credentials.resolve(env={"WAIQIN_OPENID": OPENID, ENV_APPKEY_FILE: str(path), **env})


@pytest.mark.parametrize(
    "content", [APPKEY.encode(), f"{APPKEY}\n".encode(), f"{APPKEY}\r\n".encode()]
)
def test_the_appkey_is_read_from_the_file_without_its_newline(
    tmp_path: Path, content: bytes
) -> None:
    """The file's one line is the appkey; a trailing newline (LF or CRLF) is cut."""
    assert resolve(key_file(tmp_path, content)).appkey == APPKEY


def test_the_variable_wins_over_the_file(tmp_path: Path) -> None:
    """WAIQIN_APPKEY, when set, is used and the file is not read."""
    creds = resolve(tmp_path / "does-not-exist", WAIQIN_APPKEY="from-the-variable")
    assert creds.appkey == "from-the-variable"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d / "missing", "does not exist"),
        (lambda d: key_file(d, b""), "is empty"),
        (lambda d: key_file(d, b"\n"), "is empty"),
        (lambda d: key_file(d, f"{APPKEY}\nsecond line\n".encode()), "more than one line"),
        (lambda d: key_file(d, b"\xff\xfe" + APPKEY.encode("utf-16-le")), "not UTF-8"),
        (lambda d: key_file(d, APPKEY.encode() * 1000), "larger than"),
        (lambda d: d, "not a regular file"),
    ],
)
def test_an_unusable_file_names_the_variable_and_path_never_the_content(
    tmp_path: Path, make: object, says: str
) -> None:
    """Missing, empty, several lines, not UTF-8, too large, a folder: MissingCredentials
    (exit 4) naming WAIQIN_APPKEY_FILE and the path, with nothing of what the file holds."""
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(MissingCredentials) as info:
        resolve(path)
    err = info.value
    assert says in err.message
    assert ENV_APPKEY_FILE in err.message
    assert str(path) in err.message
    assert err.exit_code == 4
    shown = f"{err} {err!r} {err.hint} {vars(err)!r}"
    assert APPKEY not in shown
    assert "second line" not in shown
    assert err.__cause__ is None
    assert err.__context__ is None


_AS_NOBODY = """
import sys
from runner.api import Credentials
from runner.errors import MissingCredentials
try:
    Credentials.resolve(env={"WAIQIN_OPENID": "o" * 16, "WAIQIN_APPKEY_FILE": sys.argv[1]})
except MissingCredentials as err:
    print(err.message)
"""


_REPO = Path(__file__).parents[2]
_SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


def _site_packages() -> list[str]:
    return [p for p in sys.path if p.endswith("site-packages")]


@pytest.mark.skipif(
    os.geteuid() == 0
    and subprocess.run(
        [_SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    != str(sys.version_info[:2]),
    reason="as root, this needs a system python3 of the venv's minor version",
)
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    """A file this user may not read is MissingCredentials saying so (as root, asked by an
    unprivileged child: root reads any file)."""
    if os.geteuid() != 0:
        path = key_file(tmp_path, APPKEY.encode(), mode=0o000)
        with pytest.raises(MissingCredentials, match="permission denied"):
            resolve(path)
        return
    folder = Path(tempfile.mkdtemp())  # pytest's own folders are closed to other users
    try:
        folder.chmod(0o755)
        path = key_file(folder, APPKEY.encode(), mode=0o000)
        # the venv's interpreter may live in root's home, closed to others: run the
        # system's python3 on the venv's packages (the same minor version: one ABI)
        child = subprocess.run(
            [_SYSTEM_PYTHON, "-c", _AS_NOBODY, str(path)],
            capture_output=True,
            text=True,
            user=65534,
            cwd=_REPO,
            env={"PYTHONPATH": os.pathsep.join([*_site_packages(), str(_REPO)])},
            check=False,
        )
    finally:
        shutil.rmtree(folder)
    assert "cannot be read (permission denied)" in child.stdout, child.stderr
    assert APPKEY not in child.stdout + child.stderr


def test_a_file_others_can_read_is_used_with_a_warning(tmp_path: Path) -> None:
    """Mode 0644 works, with one warning saying to chmod 600 (and not the content)."""
    path = key_file(tmp_path, APPKEY.encode(), mode=0o644)
    with capture_logs() as logged:
        assert resolve(path).appkey == APPKEY
    assert [line["event"] for line in logged] == ["the appkey file can be read by other users"]
    assert logged[0]["hint"] == f"chmod 600 {path}"
    assert APPKEY not in repr(logged)


def test_the_campaigns_appkey_reference_is_filled_from_the_file(tmp_path: Path) -> None:
    """``api.appkey: ${WAIQIN_APPKEY}`` with only the file set: the file's appkey is used."""
    path = key_file(tmp_path, f"{APPKEY}\n".encode())
    env = {"WAIQIN_OPENID": OPENID, ENV_APPKEY_FILE: str(path)}
    campaign = load_text(tmp_path, VALID, env=env)
    assert credentials_for(campaign, env).appkey == APPKEY


def test_without_variable_or_file_the_campaigns_reference_is_named(tmp_path: Path) -> None:
    """Neither WAIQIN_APPKEY nor the file: MissingCredentials at api.appkey, as before."""
    env = {"WAIQIN_OPENID": OPENID}
    campaign = load_text(tmp_path, VALID, env=env)
    with pytest.raises(MissingCredentials) as info:
        credentials_for(campaign, env)
    assert "WAIQIN_APPKEY" in info.value.message
    assert info.value.where.yaml_path == "api.appkey"


def test_a_literal_appkey_in_the_campaign_is_still_refused(tmp_path: Path) -> None:
    """The campaign may only refer to the appkey (``${VAR}``): a literal is refused at
    api.appkey, whatever the environment holds, and its text is never shown."""
    text = replace(VALID, "appkey: ${WAIQIN_APPKEY}", f"appkey: {APPKEY}")
    with pytest.raises(InvalidInput) as info:
        load_text(tmp_path, text, env={"WAIQIN_OPENID": OPENID})
    assert "a literal appkey is not allowed" in str(info.value)
    assert APPKEY not in str(info.value)


def test_the_files_appkey_is_refused_anywhere_else_in_the_campaign(tmp_path: Path) -> None:
    """With the appkey only in its file, a campaign value holding its text is still refused
    at its key (it would be sent to the vendor and written to the plan files)."""
    path = key_file(tmp_path, f"{APPKEY}\n".encode())
    text = replace(VALID, "remark: 使用说明", f"remark: 密钥{APPKEY}")
    with pytest.raises(InvalidInput) as info:
        load_text(tmp_path, text, env={"WAIQIN_OPENID": OPENID, ENV_APPKEY_FILE: str(path)})
    found = info.value.problems()
    assert [p.where.yaml_path for p in found] == ["vouchers.ten-off.remark"]
    assert "contains the appkey's value" in found[0].message
    assert APPKEY not in str(info.value)
