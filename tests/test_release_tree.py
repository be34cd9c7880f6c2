"""The release tree (release content: the project's files less its bookkeeping) is the same
git tree however it is computed: the fast way (the top-level listing less bookkeeping entries,
through ``git mktree``) and the general way (every path through a temporary index) must agree
on every kind of entry git stores, or a release would change identity between versions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_deploygate.evidence.release import (
    Git,
    _tree_by_index,
    release_tree,
    tree_without_top_level,
)

BOOKKEEPING = (".deploygate", ".isdlc", "gate-records")


def run_git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Jo", "GIT_AUTHOR_EMAIL": "jo@acme.example",
           "GIT_COMMITTER_NAME": "Jo", "GIT_COMMITTER_EMAIL": "jo@acme.example"}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "service" / "src" / "deep").mkdir(parents=True)
    run_git(root, "init", "-q")
    files = {
        "README.md": "top\n",
        "service/app.py": "print('hi')\n",
        "service/src/deep/data.bin": "\x00\x01",
        "service/name with spaces.txt": "x\n",
        "service/ünïcode-ñame.txt": "y\n",
        "service/line\nbreak.txt": "z\n",
        "service/.deploygate/attestations.jsonl": "{}\n",
        "service/gate-records/GATE-12.xml": "<x/>\n",
        "service/.isdlc/state.json": "{}\n",
        "service/.deploygatex/not-bookkeeping.txt": "kept\n",
        ".deploygate/top.jsonl": "{}\n",
        "gate-records/GATE-01.xml": "<x/>\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "service" / "run.sh").write_text("#!/bin/sh\n")
    (root / "service" / "run.sh").chmod(0o755)
    (root / "service" / "link").symlink_to("app.py")
    run_git(root, "add", "-A")
    # A submodule as git stores it in the tree: a gitlink (mode 160000) to another commit.
    run_git(root, "update-index", "--add", "--cacheinfo",
            "160000,1234567890123456789012345678901234567890,service/vendored")
    run_git(root, "commit", "-q", "-m", "release")
    return root


@pytest.mark.parametrize("prefix", ["", "service/"])
def test_both_ways_give_the_same_tree(repository: Path, prefix: str) -> None:
    git = Git(repository / prefix)  # git runs in the project's root, as the gate runs it
    fast = tree_without_top_level(git, "HEAD", BOOKKEEPING, prefix)
    general = _tree_by_index(git, "HEAD", BOOKKEEPING, prefix)
    assert fast is not None and fast == general
    listed = run_git(repository, "ls-tree", "--name-only", "-z", fast).split("\0")
    assert not set(BOOKKEEPING) & set(listed)
    if prefix:
        assert {"app.py", "run.sh", "link", "vendored", ".deploygatex"} <= set(listed)


def test_a_nested_bookkeeping_path_takes_the_general_way(repository: Path) -> None:
    # A record directory below the top level (reports/gate) cannot be dropped from the
    # top-level listing: the tree is built from every path instead.
    (repository / "service" / "reports" / "gate").mkdir(parents=True)
    (repository / "service" / "reports" / "gate" / "GATE-12.xml").write_text("<x/>\n")
    (repository / "service" / "reports" / "kept.txt").write_text("kept\n")
    run_git(repository, "add", "-A")
    run_git(repository, "commit", "-q", "-m", "records")
    nested = (*BOOKKEEPING, "reports/gate")
    tree = release_tree(repository, "HEAD", bookkeeping=nested, prefix="service/")
    assert tree == _tree_by_index(Git(repository), "HEAD", nested, "service/")
    assert tree != release_tree(repository, "HEAD", bookkeeping=BOOKKEEPING, prefix="service/")


def test_a_revision_without_the_project_directory_has_no_release_tree(
        repository: Path) -> None:
    first = run_git(repository, "rev-list", "--max-parents=0", "HEAD").strip()
    assert release_tree(repository, first, bookkeeping=BOOKKEEPING, prefix="elsewhere/") is None


def test_a_project_directory_with_a_line_break_is_gated_by_its_own_content(
        repository: Path) -> None:
    # git answers several questions a line each: a line break in the project's path must not
    # shift the answers (here it would name the sibling directory "service").
    from pytest_deploygate.evidence.release import release_identity

    project = repository / "service\nnext"
    project.mkdir()
    (project / "app.py").write_text("print('the gated project')\n")
    run_git(repository, "add", "-A")
    run_git(repository, "commit", "-q", "-m", "odd name")
    identity = release_identity(project, record_dir=None, version="1.0.0")
    assert identity.prefix == "service\nnext/"
    assert identity.tree == _tree_by_index(Git(repository), "HEAD", BOOKKEEPING,
                                           "service\nnext/")
    assert identity.tree != release_tree(repository, "HEAD", bookkeeping=BOOKKEEPING,
                                         prefix="service/")


def test_a_change_in_a_project_below_the_top_changes_its_release(repository: Path) -> None:
    from pytest_deploygate.evidence.release import release_identity

    project = repository / "service"
    before = release_identity(project, record_dir=None, version="1.0.0").tree
    (project / "app.py").write_text("print('changed')\n")
    run_git(repository, "commit", "-q", "-am", "change")
    after = release_identity(project, record_dir=None, version="1.0.0").tree
    assert before and after and before != after
    assert after != "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # not the empty tree


# -- the tree hashed here, not by git mktree (issue 15: one git process less per verdict) -------

@pytest.mark.parametrize("prefix", ["", "service/"])
def test_the_tree_hashed_here_is_the_one_git_builds(repository: Path, prefix: str) -> None:
    from pytest_deploygate.evidence.release import release_identity

    # A name that is not UTF-8, and names that sort differently as blob and as tree.
    (repository / "service" / "a.b").write_text("blob\n")
    (repository / "service" / "a").mkdir()
    (repository / "service" / "a" / "inner").write_text("tree\n")
    (repository / os.fsdecode(b"service/\xff-latin1.txt")).write_text("bytes\n")
    run_git(repository, "add", "-A")
    run_git(repository, "commit", "-q", "-m", "more names")
    records = repository / prefix / "gate-records"
    identity = release_identity(repository / prefix, record_dir=records, version="1.0.0")
    assert identity.tree == _tree_by_index(Git(repository / prefix), "HEAD", BOOKKEEPING,
                                           prefix)
    assert identity.tree == tree_without_top_level(Git(repository / prefix), "HEAD",
                                                    BOOKKEEPING, prefix)
    # ... and it was hashed here (git mktree is only the fallback).
    from pytest_deploygate.evidence.git_tree import tree_id

    listing = subprocess.run(["git", "-C", str(repository), "ls-tree", "-z", "--full-tree",
                              f"HEAD:{prefix.removesuffix('/')}"], check=True,
                             capture_output=True).stdout.decode("utf-8", "surrogateescape")
    kept = [e for e in listing.split("\0") if e and e.partition("\t")[2] not in BOOKKEEPING]
    assert tree_id(kept, "sha1") == identity.tree


def test_a_sha256_repository_gets_its_own_tree_ids(tmp_path: Path) -> None:
    from pytest_deploygate.evidence.release import release_identity

    root = tmp_path / "sha256"
    root.mkdir()
    run_git(root, "init", "-q", "--object-format=sha256")
    (root / "app.py").write_text("print('hi')\n")
    (root / ".deploygate").mkdir()
    (root / ".deploygate" / "log.jsonl").write_text("{}\n")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "release")
    identity = release_identity(root, record_dir=root / "gate-records", version="1.0.0")
    assert identity.tree is not None and len(identity.tree) == 64
    assert identity.tree == _tree_by_index(Git(root), "HEAD", BOOKKEEPING, "")


def test_entries_the_hash_does_not_know_are_left_to_git() -> None:
    from pytest_deploygate.evidence.git_tree import tree_id

    blob = "100644 blob " + "a" * 40 + "\t"
    assert tree_id([blob + "x"], "sha1") is not None
    assert tree_id([blob + "x"], "sha512") is None  # no such object format
    assert tree_id(["100644 blob " + "a" * 64 + "\tx"], "sha1") is None  # wrong id length
    assert tree_id(["040000 blob " + "a" * 40 + "\tx"], "sha1") is None  # mode and type differ
    assert tree_id([blob + "x", blob + "x"], "sha1") is None  # a name twice
    assert tree_id([blob + "x/y"], "sha1") is None  # not one level


# -- many commits at once (the commit of each sign-off and waiver line) ---------------------

@pytest.mark.parametrize("prefix", ["", "service/"])
def test_the_trees_of_many_commits_are_those_of_each(repository: Path, prefix: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """release_trees (two cat-file batches for every sign-off commit of a run) gives what
    release_tree gives one commit at a time: the framework's checklists kept inside its
    bookkeeping folder, record files left out of a record folder, odd names, a submodule, a
    commit without the project and one git does not have."""
    from pytest_deploygate.evidence.release_trees import release_trees

    base = repository / prefix
    commits = [run_git(repository, "rev-parse", "HEAD").strip()]
    steps = [
        {".isdlc/checklists/12-production-gate.md": "- [ ] one\n"},
        {".isdlc/checklistsx/other.md": "x\n", ".isdlc/state.json": '{"a": 1}\n'},
        {"gate-records/GATE-12-pre.xml": "<y/>\n", "gate-records/notes.txt": "kept\n"},
        {os.fsdecode(b"\xfe-name.txt"): "bytes\n", "a.b": "1\n", "a/inner": "2\n"},
        {".isdlc/checklists/12-production-gate.md": "- [ ] one\n- [ ] two\n"},
    ]
    for files in steps:
        for name, text in files.items():
            (base / name).parent.mkdir(parents=True, exist_ok=True)
            (base / name).write_text(text)
        run_git(repository, "add", "-A")
        run_git(repository, "commit", "-q", "-m", "step")
        commits.append(run_git(repository, "rev-parse", "HEAD").strip())
    asked = [*commits, "0" * 40, commits[0]]
    bookkeeping = (".deploygate", ".isdlc", "gate-records/*")
    asked_of_git: list[tuple[str, ...]] = []
    one_by_one = Git.__call__

    def counted(self: Git, *args: str, stdin: str | None = None) -> tuple[int, str]:
        asked_of_git.append(args)
        return one_by_one(self, *args, stdin=stdin)

    monkeypatch.setattr(Git, "__call__", counted)
    trees = release_trees(base, asked, bookkeeping=bookkeeping, prefix=prefix,
                          object_format="sha1")
    # Every listing came from the two batches (only the commit git lacks is asked again).
    assert [a for a in asked_of_git if a[0] == "ls-tree"] == [
        ("ls-tree", "-z", "--full-tree", f"{'0' * 40}:{prefix.removesuffix('/')}")]
    monkeypatch.undo()
    each = {c: release_tree(base, c, bookkeeping=bookkeeping, prefix=prefix,
                            object_format="sha1") for c in asked}
    assert trees == each
    assert trees["0" * 40] is None
    assert len({trees[c] for c in commits}) == 5  # the state.json step changed nothing
    # ... and the general way (every path through an index) agrees with both.
    for commit in commits:
        assert trees[commit] == _tree_by_index(Git(base), commit, bookkeeping, prefix)
