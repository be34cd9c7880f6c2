"""Property-based tests: generated and mutated checklists either import into a valid spec or
fail with one clear error naming the line; never an exception of another kind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pytest_deploygate.checks import build_registry, builtin_kinds  # noqa: E402
from pytest_deploygate.core.errors import SpecError  # noqa: E402
from pytest_deploygate.importer import ChecklistError, import_checklist  # noqa: E402
from pytest_deploygate.importer.emit import to_yaml  # noqa: E402
from pytest_deploygate.spec.loader import load_spec  # noqa: E402

KINDS = build_registry([builtin_kinds()])

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=0, max_size=30)
titles = st.one_of(words, st.sampled_from([
    "1. Approval Requirements", "Cross-Browser Testing (if applicable)", "12. Constitutional "
    "Compliance Iteration (NEW)", "Rollback Criteria", "Pre-Deployment Criteria", "Gate Decision",
    "Required Artifacts", "Prerequisites (MANDATORY)", "Next Phase", "Deployment Criteria"]))
items = st.one_of(words, st.sampled_from([
    "Error rate > 5%", "Coverage >= 80%", "Mutation score ≥ 80%", "p99 > {threshold}ms",
    "Iterations within limit (Quick: 3, Standard: 5, Enterprise: 7)", "Articles IX, X validated",
    "Status page prepared (if applicable)", "Tool configured (check `.isdlc/state.json` → "
    "`testing_infrastructure.tools.mutation`)", "All previous gates passed", "`x` | y"]))
cells = st.one_of(words, st.sampled_from(["Yes", "No", "Yes (if cloud)", "If found",
                                          "`a.md` or `b.md`", "`../etc/passwd`", "`dir/`",
                                          "[ ] Pass / [ ] Fail", "GATE-10 Passed",
                                          "`cloud_configuration.provider` must be `aws`"]))


@st.composite
def blocks(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["heading", "item", "table", "bold", "text", "fence", "blank"]))
    if kind == "heading":
        return "#" * draw(st.integers(1, 5)) + " " + draw(titles)
    if kind == "item":
        mark = draw(st.sampled_from(["[ ]", "[x]", "[X]", "[]", "[  ]"]))
        indent = draw(st.sampled_from(["", "  ", "    "]))
        return f"{indent}- {mark} {draw(items)}"
    if kind == "table":
        head = draw(st.sampled_from(["| Artifact | Path | Required |",
                                     "| Prerequisite | Check | Description |",
                                     "| Criteria | Status | Notes |", "| A | B |"]))
        rows = draw(st.lists(st.lists(cells, min_size=0, max_size=4), max_size=4))
        separator = draw(st.sampled_from(["|---|---|---|", "", "|---|"]))
        body = ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join([head, separator, *body])
    if kind == "bold":
        return f"**{draw(words)}**" + draw(st.sampled_from(["", ":", ": [ ] PASS"]))
    if kind == "fence":
        return "```\n" + draw(words) + ("\n```" if draw(st.booleans()) else "")
    return draw(words) if kind == "text" else ""


def check(name: str, text: str) -> None:
    try:
        spec = import_checklist(Path(name), text)
    except ChecklistError as exc:
        assert exc.line >= 1
        assert str(exc).startswith(f"{name}:{exc.line}: ")
        assert "\n" not in str(exc)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{spec['slug']}.yaml"
        path.write_text(to_yaml(spec), encoding="utf-8")
        try:
            load_spec(path, KINDS)
        except SpecError as exc:  # the importer wrote a spec the loader refuses: a bug
            raise AssertionError(f"invalid spec from generated checklist:\n{text}\n{exc}") from None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(blocks(), max_size=25))
def test_generated_checklists(parts: list[str]) -> None:
    check("07-generated-gate.md", "\n\n".join(parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_checklists(shared_checklists: list[Path], data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(shared_checklists))
    lines = source.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 6))):
        if not lines:
            break
        at = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "insert", "truncate"]))
        if action == "delete":
            del lines[at:at + data.draw(st.integers(1, 8))]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "insert":
            lines[at:at] = data.draw(blocks()).splitlines()
        else:
            lines[at] = lines[at][:data.draw(st.integers(0, max(len(lines[at]) - 1, 0)))]
    check(source.name, "\n".join(lines))
