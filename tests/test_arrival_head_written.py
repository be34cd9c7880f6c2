"""rt15c A03 (= rt15b A01): a file of the release put in a reused work tree before the
arriving checkout is not written by it, so the earliest change time of "the files it wrote"
was the earlier run's, and that run's reports counted as fresh. The arrival is now also no
earlier than the last change of the files that hold HEAD (``HEAD``, and the branch's ref
when HEAD names one), which git writes whenever HEAD moves to another commit.

Real git repositories, the CI systems' own checkout commands, pytester end to end.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate
from runner_git import runner_env, runner_git

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')
_HOUR = 3600.0
#: The CI systems' checkouts of the release, into a reused work tree (after their fetch).
_CHECKOUTS = {
    "actions/checkout": ["checkout", "-q", "--progress", "--force", "-B", "main",
                         "refs/remotes/origin/main"],
    "actions/checkout detached": ["checkout", "-q", "--progress", "--force", "{commit}"],
    "gitlab": ["checkout", "-f", "-q", "{commit}"],
    "jenkins": ["checkout", "-f", "{commit}"],
}


def _commit(root: Path, when: str, message: str) -> str:
    env = {**runner_env(), "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env,
                       capture_output=True)
    for command in (["git", "add", "-A", "--", "."], ["git", "commit", "-q", "-m", message]):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)
    return runner_git(root, "rev-parse", "HEAD")


def _report(root: Path) -> Path:
    path = root / "reports" / "unit.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_JUNIT_PASS)
    return path


def _after(path: Path, probe: Path) -> None:
    """Return once the kernel's file clock has moved past ``path``'s change time."""
    while True:
        probe.write_text("")
        if probe.stat().st_ctime_ns > path.stat().st_ctime_ns:
            return


def _judged(project: GateProject) -> dict[str, str]:
    project.run("--gate=12")
    return project.record().case("fresh")


def _runner_at_the_old_release(project: GateProject, tmp_path: Path,
                               worktree: bool = False) -> str:
    """Releases 1.3.0 and 1.4.0 (two files differ: app.py, CHANGELOG.md) in an author's
    repository; the runner's reused work tree at 1.3.0, 1.4.0 fetched (``worktree``: a
    ``git worktree add`` of a clone elsewhere); the 1.4.0 commit."""
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    (project.root / ".gitignore").write_text("reports/\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")
    (project.root / "app.py").write_text("VERSION = '1.3.0'\n")
    (project.root / "CHANGELOG.md").write_text("## 1.3.0\n")
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    old = _commit(author, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    (author / "app.py").write_text("VERSION = '1.4.0'\n")
    (author / "CHANGELOG.md").write_text("## 1.4.0\n## 1.3.0\n")
    release = _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    if worktree:
        clone = tmp_path / "clone"
        runner_git(tmp_path, "clone", "-q", str(author), str(clone))
        runner_git(clone, "worktree", "add", "-q", "--detach", str(project.root), old,
                   when=time.time() - 4 * _HOUR)
        return release
    runner_git(project.root, "clone", "-q", "--no-checkout", str(author), ".",
               when=time.time() - 5 * _HOUR)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", old,
               when=time.time() - 4 * _HOUR)
    return release


def _ci_checkout(project: GateProject, checkout: str, release: str) -> None:
    runner_git(project.root, *(part.replace("{commit}", release)
                               for part in _CHECKOUTS[checkout]))
    assert runner_git(project.root, "rev-parse", "HEAD") == release


@pytest.mark.parametrize("checkout", sorted(_CHECKOUTS))
@pytest.mark.parametrize("placed", ["CHANGELOG.md", "."])
def test_release_files_placed_before_the_checkout_do_not_date_it(
        project: GateProject, tmp_path: Path, checkout: str, placed: str) -> None:
    # The earlier run (HEAD at 1.3.0) put one of the release's files in the work tree
    # (`git checkout origin/main -- CHANGELOG.md`), or all of them (`-- .`), then left its
    # passing report. The CI's checkout of 1.4.0 rewrites only the others, or none: the
    # earliest change time of the files that differ was the earlier run's, before its
    # report, and the report counted as fresh.
    release = _runner_at_the_old_release(project, tmp_path)
    runner_git(project.root, "checkout", "-q", "origin/main", "--", placed)
    placed_file = project.root / "CHANGELOG.md"
    _after(placed_file, tmp_path / "probe")
    report = _report(project.root)
    _after(report, tmp_path / "probe")
    _ci_checkout(project, checkout, release)
    assert placed_file.stat().st_ctime_ns < report.stat().st_ctime_ns
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    assert "HEAD came to its commit later" in case["text"], case
    # The report this run writes after its checkout passes.
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))


@pytest.mark.parametrize("move", [["reset", "-q", "--soft", "{commit}"],
                                  ["update-ref", "--no-deref", "-m", "moved", "HEAD",
                                   "{commit}"]])
def test_head_moved_without_writing_a_file_is_the_arrival(
        project: GateProject, tmp_path: Path, move: list[str]) -> None:
    # The earlier run placed every release file, left its report, then moved HEAD to the
    # release without writing a file (an entry "1.3.0 -> 1.4.0" that wrote nothing); the
    # CI's detached checkout of the same commit writes no entry and no file. The arrival is
    # that move, after the report.
    release = _runner_at_the_old_release(project, tmp_path)
    runner_git(project.root, "checkout", "-q", "origin/main", "--", ".")
    report = _report(project.root)
    _after(report, tmp_path / "probe")
    runner_git(project.root, *(part.replace("{commit}", release) for part in move))
    _ci_checkout(project, "gitlab", release)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case


@pytest.mark.parametrize("checkout", sorted(_CHECKOUTS))
def test_honest_checkouts_pass_and_the_gate_writes_none_of_the_files(
        project: GateProject, tmp_path: Path, checkout: str) -> None:
    # Every CI checkout, then the run's report: PASS, twice; the gate's own git commands
    # change none of the files that hold HEAD (nor HEAD's reflog), so a second run (a
    # retried gate step) judges the same.
    release = _runner_at_the_old_release(project, tmp_path)
    _ci_checkout(project, checkout, release)
    git = project.root / ".git"
    held = [git / "HEAD", git / "logs" / "HEAD", git / "refs" / "heads" / "main"]
    before = [path.stat().st_ctime_ns for path in held]
    _after(held[0], tmp_path / "probe")
    _report(project.root)
    for _ in range(2):
        case = _judged(project)
        assert case["outcome"] == "passed", (case, case.get("text"))
    assert [path.stat().st_ctime_ns for path in held] == before


def test_a_branch_only_in_packed_refs_is_dated_by_that_file(
        project: GateProject, tmp_path: Path) -> None:
    # `git pack-refs` (or gc) after the checkout moves the branch into packed-refs: that file
    # was rewritten then, later than the arrival. A report written after it passes, one
    # written before it is refused (later, never earlier, than the truth).
    release = _runner_at_the_old_release(project, tmp_path)
    _ci_checkout(project, "actions/checkout", release)
    _after(project.root / ".git" / "HEAD", tmp_path / "probe")
    _report(project.root)
    _after(project.root / "reports" / "unit.xml", tmp_path / "probe")
    runner_git(project.root, "pack-refs", "--all", "--prune")
    assert not (project.root / ".git" / "refs" / "heads" / "main").exists()
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "packed-refs" in case["text"], case
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))


def test_a_work_tree_added_with_git_worktree_is_dated_by_its_own_head(
        project: GateProject, tmp_path: Path) -> None:
    # `git worktree add`: HEAD and its reflog are in .git/worktrees/<name>/ of the main
    # repository, the branches in the main repository. A release file placed before the
    # checkout does not date it; a report written after the checkout passes.
    release = _runner_at_the_old_release(project, tmp_path, worktree=True)
    assert (project.root / ".git").is_file()
    runner_git(project.root, "checkout", "-q", "origin/main", "--", "CHANGELOG.md")
    report = _report(project.root)
    _after(report, tmp_path / "probe")
    runner_git(project.root, "checkout", "-q", "-f", release)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "worktrees" in case["text"], case
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))


@pytest.mark.parametrize("odd", ["HEAD a link", "ref a link", "ref not HEAD's commit"])
def test_odd_files_holding_head_leave_the_arrival_unknown(
        project: GateProject, tmp_path: Path, odd: str) -> None:
    # git writes HEAD and a loose ref as regular files holding HEAD's commit: a link (its own
    # change time is the link's), or a ref that is not HEAD's commit, is not what git wrote
    # when HEAD moved: the arrival is unknown and the evidence missing, never older.
    release = _runner_at_the_old_release(project, tmp_path)
    _ci_checkout(project, "actions/checkout", release)
    git = project.root / ".git"
    if odd == "HEAD a link":
        (git / "HEAD").unlink()
        (git / "HEAD").symlink_to("refs/heads/main")
        assert runner_git(project.root, "rev-parse", "HEAD") == release
    elif odd == "ref a link":
        runner_git(project.root, "update-ref", "--no-deref", "refs/heads/kept", release)
        (git / "refs" / "heads" / "main").unlink()
        (git / "refs" / "heads" / "main").symlink_to("kept")
        assert runner_git(project.root, "rev-parse", "HEAD") == release
    else:
        (git / "refs" / "heads" / "main").write_text("ref: refs/heads/kept\n")
        runner_git(project.root, "update-ref", "--no-deref", "refs/heads/kept", release)
        assert runner_git(project.root, "rev-parse", "HEAD") == release
    _after(git / "HEAD", tmp_path / "probe")
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] != "passed", (case, case.get("text"))
    assert "when HEAD came to its commit is unknown" in case["message"], case
