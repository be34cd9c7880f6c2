"""A built-in kind's result is booked as it is only where copying it would give the same.

(The gate run rebuilds each result from its parts before booking it: gate/run.py
``_booked_copy``. For a run of the package's own kinds, ``_booked_already`` lets a result
through uncopied; these cases show it does so only where the copy is equal, field by field.)
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deploygate.checks import build_registry, builtin_kinds
from pytest_deploygate.checks.context import CheckKind
from pytest_deploygate.core.measurements import Measurement, Point
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.gate.run import _booked_already, _booked_copy, _own_kinds_only


class _Subclass(CheckResult):
    pass


def _results() -> list[Any]:
    plain = Evidence("file", "evidence.md", "ab" * 32, "2026-01-01T00:00:00Z", "size=3")
    return [
        CheckResult.met("project.name is \"bench\"", Evidence("state", "project.name")),
        CheckResult.met("evidence.md present (11 bytes)", plain),
        CheckResult.not_met("no sign-off"),
        CheckResult.missing("see https://user:secret@example.com/x?token=abc"),
        CheckResult.met("ok", Evidence("http", "https://example.com/health?key=s3cret")),
        CheckResult.met("ok", Evidence("file", "a\x1bb", detail="tab\there")),
        CheckResult.met("bidi \u202e text", plain),
        CheckResult("met", "a list of evidence", [plain]),  # type: ignore[arg-type]
        CheckResult.met("measured").measured(Measurement("p99", (Point(0.0, 1.0, False),))),
        _Subclass("met", "a subclass"),
        CheckResult.met("", Evidence("", "")),
    ]


@pytest.mark.parametrize("index", range(len(_results())))
def test_a_result_booked_as_it_is_equals_its_copy(index: int) -> None:
    result = _results()[index]
    copied = _booked_copy(result)
    if _booked_already(result):
        assert isinstance(copied, CheckResult) and type(copied) is type(result)
        assert copied == result
        assert [vars(e) for e in copied.evidence] == [vars(e) for e in result.evidence]


def test_only_plain_results_of_exact_classes_skip_the_copy() -> None:
    taken = [_booked_already(r) for r in _results()]
    # (The bidi control was escaped when the result was made: its message is plain text now.
    # A tab stays a tab, which shown() keeps and isprintable() refuses: that one is copied.)
    assert taken == [True, True, True, False, False, False, True, False, False, False, True]


def test_only_a_registry_of_the_built_in_kinds_counts_as_own() -> None:
    own = build_registry([builtin_kinds()])
    assert _own_kinds_only(own)
    assert not _own_kinds_only(dict(own))  # a mapping someone could change later
    extra = CheckKind("extra", "nothing", {"type": "object"},
                      lambda params, ctx: CheckResult.met("fine"))
    assert not _own_kinds_only(build_registry([builtin_kinds(), [extra]]))
