"""Red team s8: interrupted runs, sign-offs bound to the release, verdict --max-age."""

from __future__ import annotations

import pytest

from conftest import GateProject

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
