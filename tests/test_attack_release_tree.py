"""Attack: a gated project in a subdirectory of its repository must get the release tree of
its own content. git lists a "<rev>:<dir>" tree relative to the directory it runs in, so a
tree listed from the project root without --full-tree is a different (nearly always empty)
tree: every release had the same tree, and a tag on another release's content passed."""

from __future__ import annotations

import pytest

from conftest import GateProject, custom_gate, parse_record, write_config


@pytest.fixture
def nested(project: GateProject) -> GateProject:
    """The repository at the pytester dir, the gated project in its ``svc/`` directory."""
    repository = project.root
    project.root = repository / "svc"
    project.root.mkdir()
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, "version: 1.4.0\n")
    custom_gate(project, "- {id: tag, text: Version tagged, check: {kind: git_tag}}")
    (repository / "README.md").write_text("repository\n")
    (project.root / "app.py").write_text("print('1.3')\n")
    project.root = repository
    project.git_init()
    project.git("tag", "v1.4.0")
    (repository / "svc" / "app.py").write_text("print('1.4')\n")
    project.git("commit", "-q", "-am", "the real 1.4.0")
    return project


def test_a_tag_on_other_content_in_a_subdirectory_project_is_not_met(
        nested: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(nested.root / "svc")
    nested.run("--gate=12", "--rootdir=.")
    result = parse_record(nested.root / "svc" / "gate-records" / "GATE-12.xml").case("tag")
    assert result["type"] == "not-met", result
    assert "is on another release" in result["message"]
    assert "app.py" in result["message"]



@pytest.mark.parametrize("name", ["svc", " svc", "s v\"c\tx", "a:b", "ünï", "svc/svc"])
def test_the_release_tree_of_a_subdirectory_is_its_own_content(
        project: GateProject, name: str) -> None:
    """Whatever the directory is called, both ways of building the tree agree on the project's
    own content when git runs where the gate runs (the project root), and a sibling whose
    name differs only by whitespace is not taken for it."""
    from pytest_deploygate.evidence.release import (
        Git,
        _tree_by_index,
        release_identity,
        tree_without_top_level,
    )

    root = project.root / name
    for directory, text in ((root, "mine\n"), (project.root / name.strip(), "sibling\n"),
                            (root / name.split("/")[-1], "nested\n")):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{len(text)}-{text.strip()}.txt").write_text(text)
    (root / ".deploygate").mkdir()
    (root / ".deploygate" / "attestations.jsonl").write_text("{}\n")
    project.git_init()
    identity = release_identity(root, record_dir=root / "gate-records", version="1")
    assert identity.known, identity.problem
    assert identity.prefix == name + "/"
    git = Git(root)
    bookkeeping = (".deploygate", ".isdlc", "gate-records")
    assert identity.tree == _tree_by_index(git, "HEAD", bookkeeping, identity.prefix)
    assert identity.tree == tree_without_top_level(git, "HEAD", bookkeeping, identity.prefix)
    listed = set(project.git("ls-tree", "--name-only", identity.tree or "").splitlines())
    assert "5-mine.txt" in listed and ".deploygate" not in listed

