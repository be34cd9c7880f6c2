# ruff: noqa: F811  (the fixture comes from test_signoff_identity)
"""Red team s8: interrupted runs, sign-offs bound to the release, verdict --max-age."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_signoff_identity import DEV, cli, git, signed  # noqa: F401  (signed: the fixture)
from test_signoff_release_binding import CRITERION

from conftest import GateProject, parse_record

LAST_USER_TEST = "test_zz_last.py"  # (collected after the gate's items)
REASON = "the pytest run was interrupted before it finished"


@pytest.mark.parametrize("xdist", [(), ("-n", "1")], ids=["serial", "xdist"])
@pytest.mark.parametrize("returncode", [0, 1, 5])
def test_pytest_exit_with_any_return_code_is_incomplete(example: GateProject, returncode: int,
                                                        xdist: tuple[str, ...]) -> None:
    """``pytest.exit(msg, returncode=0)`` is an interruption as KeyboardInterrupt is (pytest
    calls pytest_keyboard_interrupt for both): the exit status said 0, the record said PASS."""
    example.pytester.makepyfile(**{LAST_USER_TEST.removesuffix(".py"): (
        "import pytest\n\ndef test_stop():\n"
        f"    pytest.exit('stop here', returncode={returncode})\n")})
    result = example.run_subprocess("--gate=12", *xdist)
    assert example.record().decision == "INCOMPLETE", result.stdout.str()
    assert REASON in (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert result.ret != 0


# -- sign-offs bound to the release: what counts as bookkeeping ------------------------------------



def change_source(root: Path, folder: str = "src") -> None:
    """A content change after the sign-offs, committed alone (the records stay untracked)."""
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / "feature.py").write_text("def late_change():\n    return 'unreviewed'\n")
    git(root, "add", folder)
    git(root, "commit", "-q", "-m", "a change after the approvals", email=DEV)


@pytest.mark.parametrize("how", ["option", "ini"])
@pytest.mark.parametrize("folder", ["src", "src/deep"])  # (top level, and the general way)
def test_a_record_dir_over_release_content_does_not_hide_a_change(
        signed: GateProject, folder: str, how: str) -> None:
    """--gate-record-dir=src (or the ini setting) made src/ bookkeeping: a sign-off made on
    other src/ content counted."""
    change_source(signed.root, folder)
    if how == "option":
        signed.run("--gate=12", f"--gate-record-dir={signed.root / folder}")
    else:
        signed.run("--gate=12", "-o", f"deploygate_record_dir={folder}")
    record = parse_record(signed.root / folder / "GATE-12.xml")
    assert record.case(CRITERION)["type"] == "evidence-missing"
    assert record.decision != "PASS"


def test_a_linked_record_dir_does_not_hide_a_change(signed: GateProject) -> None:
    """A build step leaves gate-records/ as a link to src/: its target was bookkeeping, for the
    gate and for deploygate verdict in the same checkout."""
    change_source(signed.root)
    records = signed.root / "gate-records"
    if records.exists():
        shutil.rmtree(records)
    records.symlink_to("src", target_is_directory=True)
    signed.run("--gate=12")
    record = signed.record()
    assert record.case(CRITERION)["type"] == "evidence-missing"
    assert cli(signed.root, "verdict", "gate-records/GATE-12.xml").returncode != 0
