"""rt16b A02: rt15c A03 came back once HEAD moved on, after the arrival, to another commit of
the same release (a bookkeeping commit on top: a sign-off, notes). The arrival's bound "no
earlier than the last change of the files that hold HEAD" was left out when a later reflog
entry moved HEAD, and the floor fell back to the earliest change time of the files the
arrival wrote: a release file an earlier run put in the reused work tree, older than that
run's stale report, which then counted as fresh.

Nothing git keeps dates the first arrival once HEAD moved on, so the floor is now that move
(the files holding HEAD, rewritten by it) whatever shape it took: reports written before it
are refused, reports written after it pass.

Real git repositories (an author's, the runner's reused clone), the CI systems' own checkout
and update commands, pytester end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate
from runner_git import runner_env, runner_git

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')
_HOUR = 3600.0
#: How the runner's HEAD moves on from the release commit to the bookkeeping commit on top
#: of it (fetched as origin/main): every shape that writes a later reflog entry.
_MOVES = {
    "gitlab detached checkout": [["checkout", "-f", "-q", "{next}"]],
    "actions/checkout -B": [["checkout", "-q", "--force", "-B", "main",
                             "refs/remotes/origin/main"]],
    "reset --hard": [["reset", "-q", "--hard", "origin/main"]],
    "pull fast-forward": [["merge", "-q", "--ff-only", "origin/main"]],
    "detached checkout of the next commit": [["checkout", "-q", "--detach", "{next}"]],
    "sign-off committed in the work tree": [["add", ".deploygate"],
                                            ["commit", "-q", "-m", "sign-off"]],
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


def _releases(project: GateProject, tmp_path: Path) -> tuple[Path, str, str]:
    """Releases 1.3.0 and 1.4.0 (app.py and CHANGELOG.md differ) in an author's repository,
    the runner's reused clone at 1.3.0 with 1.4.0 fetched; the author's folder, the 1.3.0
    and the 1.4.0 commits."""
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
    runner_git(project.root, "clone", "-q", "--no-checkout", str(author), ".",
               when=time.time() - 5 * _HOUR)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", old,
               when=time.time() - 4 * _HOUR)
    return author, old, release


def _bookkeeping_on_top(project: GateProject, author: Path, shape: str) -> str:
    """A commit on top of the release that changes bookkeeping only (no new release): made
    by the author and fetched by the runner, or made in the runner's work tree by the job
    itself; the commit HEAD is to move to ("" for the job's own commit, made by the move)."""
    notes = Path(".deploygate") / "notes.md"
    if shape == "sign-off committed in the work tree":
        (project.root / notes).parent.mkdir(exist_ok=True)
        (project.root / notes).write_text("signed\n")
        return ""
    (author / notes).parent.mkdir(exist_ok=True)
    (author / notes).write_text("signed\n")
    following = _commit(author, "2025-07-02T12:00:00+00:00", "notes")
    runner_git(project.root, "fetch", "-q", "origin")
    return following


@pytest.mark.parametrize("shape", sorted(_MOVES))
def test_a_later_move_within_the_release_does_not_reopen_placed_files(
        project: GateProject, tmp_path: Path, shape: str) -> None:
    # The earlier run (HEAD at 1.3.0) put the release's CHANGELOG.md in the work tree and
    # left its passing report; the CI arrived at 1.4.0 (actions/checkout), then HEAD moved
    # on to a bookkeeping commit on top. Before, the floor was the placed file's change
    # time, older than the report: PASS, and `deploygate verdict` exited 0.
    author, _, release = _releases(project, tmp_path)
    runner_git(project.root, "checkout", "-q", "origin/main", "--", "CHANGELOG.md")
    placed = project.root / "CHANGELOG.md"
    _after(placed, tmp_path / "probe")
    report = _report(project.root)
    _after(report, tmp_path / "probe")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main",
               "refs/remotes/origin/main")
    assert runner_git(project.root, "rev-parse", "HEAD") == release
    _after(project.root / ".git" / "HEAD", tmp_path / "probe")
    following = _bookkeeping_on_top(project, author, shape)
    for command in _MOVES[shape]:
        runner_git(project.root, *(part.replace("{next}", following) for part in command))
    head = runner_git(project.root, "rev-parse", "HEAD")
    assert head != release
    assert runner_git(project.root, "rev-parse", "HEAD~1") == release
    assert placed.stat().st_ctime_ns < report.stat().st_ctime_ns
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    assert "HEAD came to its commit later" in case["text"], case
    verdict = subprocess.run(
        [sys.executable, "-P", "-m", "pytest_deploygate", "verdict", "gate-records/GATE-12.xml"],
        cwd=project.root, capture_output=True, text=True, check=False)
    assert verdict.returncode != 0, verdict
    # The honest run writes its reports after the last step that moves HEAD: PASS.
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))
