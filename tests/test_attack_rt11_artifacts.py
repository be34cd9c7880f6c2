"""Red team (session 11): an artifact's candidates when one of them is the wrong kind of thing.

Only a path ending in / names a folder. A folder found at a file's path, or a file at a
folder's path, is not the artifact; it must not hide a later candidate that is (the first
candidate that existed as anything was judged: with ``path: [notes, other/]``, an unrelated
folder ``notes`` made the gate fail although ``other/`` held the artifact). Passing over it
gains an attacker nothing: the later candidate is judged in full, and with none the wrong one
is still refused as what it is."""

from __future__ import annotations

import pytest
from hostile_files import gate

from conftest import GateProject


def spec_with(project: GateProject, paths: str) -> None:
    """Gate 12 as one artifact of the candidate ``paths`` and one state criterion."""
    (project.root / "gate_specs").mkdir(exist_ok=True)
    (project.root / "gate_specs" / "12-production.yaml").write_text(
        "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Candidates\n"
        "phase: 12-production\ndecision: [{id: all, title: All}]\n"
        f"artifacts: [{{id: notes, name: Notes, path: {paths}}}]\n"
        "sections:\n  - {id: s, title: S, stage: pre, decision: all, criteria: "
        "[{id: phases, text: Phases, check: {kind: state, path: phases}}]}\n")


def write(project: GateProject, relative: str, text: str = "notes of the release\n") -> None:
    path = project.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(("paths", "wrong", "right", "judged"), [
    # an unrelated folder at the file alternative's path, the artifact in the folder one
    ("[notes, other/]", "notes/draft.txt", "other/adr-1.md", "other/ holds 1 file(s)"),
    # a file at the folder alternative's path, the artifact at the file one
    ("[results/, results.md]", "results", "results.md", "results.md present"),
    # the same through the gate's artifact folders: a folder in the first one
    ("release-notes.md", "docs/deployment/production/release-notes.md/old.md",
     "docs/deployment/release-notes.md", "docs/deployment/release-notes.md present"),
])
def test_a_candidate_of_the_wrong_kind_does_not_hide_the_artifact(
        example: GateProject, paths: str, wrong: str, right: str, judged: str) -> None:
    spec_with(example, paths)
    production = example.root / "docs" / "deployment" / "production"
    (production / "release-notes.md").unlink()
    write(example, wrong)
    write(example, right)
    gate(example)
    case = example.record().case("notes")
    assert case["outcome"] == "passed", case
    assert judged in case["text"], case


@pytest.mark.parametrize(("paths", "wrong", "says"), [
    ("[notes, other/]", "notes/draft.txt", "notes is a directory"),
    ("[results/, results.md]", "results", "results/ is not a directory"),
])
def test_with_no_candidate_of_the_right_kind_the_wrong_one_is_refused_as_what_it_is(
        example: GateProject, paths: str, wrong: str, says: str) -> None:
    spec_with(example, paths)
    write(example, wrong)
    gate(example)
    case = example.record().case("notes")
    assert case["outcome"] != "passed", case
    assert says in case["message"], case


def test_a_folder_of_only_empty_files_is_no_artifact(example: GateProject) -> None:
    """An empty file is not met ("is empty"); a folder holding nothing but empty files (a
    scaffold's ``.gitkeep``) met "present" without anything in it."""
    spec_with(example, "adrs/")
    write(example, "adrs/.gitkeep", "")
    write(example, "adrs/drafts/.gitkeep", "")
    gate(example)
    case = example.record().case("notes")
    assert case["outcome"] != "passed", case
    assert "adrs/ holds only empty files (2)" in case["message"], case
    write(example, "adrs/0001-use-postgres.md", "# Use PostgreSQL\n")
    gate(example)
    case = example.record().case("notes")
    assert case["outcome"] == "passed", case
    assert "adrs/ holds 3 file(s)" in case["text"], case
