"""Red team on how the three gate records are written since the per-criterion work (JUnit
testcases written as text, records written piece by piece, evidence described from dicts):
each attack runs through the public surface (``pytest --gate``, ``deploygate verdict``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_verdict_trust import verdict

from conftest import GateProject
from pytest_deploygate.records.reader import read_record

#: A user's gate-marked test whose docstring (the criterion's text) holds what XML 1.0 cannot
#: carry, and what would break out of an attribute.
HOSTILE_DOC = '''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill():
    """Restore {text}"""
    assert {verdict}
'''


def _record_is_valid(path: Path, junit_schema: Any) -> None:
    junit_schema.validate(str(path))
    read_record(path)


@pytest.mark.parametrize("text", ["\\x01 ctl", "\\ud800 lone", "\\ufffe", "\\x1b[8m hidden",
                                  '\\" name=\\"x', "a\\r\\nb\\tc", "\\U0001d11e"])
def test_a_criterion_text_xml_cannot_carry_keeps_the_record_valid(
        example: GateProject, junit_schema: Any, text: str) -> None:
    example.pytester.makepyfile(test_release=HOSTILE_DOC.format(text=text, verdict="False"))
    result = example.run("--gate=12")
    assert result.ret != 0
    path = example.root / "gate-records" / "GATE-12.xml"
    _record_is_valid(path, junit_schema)
    assert read_record(path).properties["deploygate.decision"] == "FAIL"
