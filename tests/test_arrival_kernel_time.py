"""rt14d A4: the freshness floor's arrival is a time the kernel kept, not the reflog's dates.

A reflog entry is dated by the committer clock of the git that wrote it, which
``GIT_COMMITTER_DATE`` in the job's environment sets (a CI variable): a checkout dated
before a stale report, followed by any honestly dated entry (``git reset --hard``), made a
report an earlier run left in a reused work tree count as fresh. The reflog's dates are not
read any more: the arrival is the inode change time of the files that checkout wrote (no
``touch`` moves one back), or, when it wrote none, the reflog file's own change time.

Real git repositories, the runner's own git commands, pytester end to end.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate
from runner_git import runner_env, runner_git

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')
_HOUR = 3600.0


def _commit(root: Path, when: str, message: str) -> str:
    """A commit of everything by the release's author, dated ``when``."""
    env = {**runner_env(), "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env,
                       capture_output=True)
    for command in (["git", "add", "-A", "--", "."], ["git", "commit", "-q", "-m", message]):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)
    return runner_git(root, "rev-parse", "HEAD")


def _report(root: Path, mtime: float | None = None) -> Path:
    path = root / "reports" / "unit.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_JUNIT_PASS)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _after(path: Path, probe: Path) -> None:
    """Return once the kernel's file clock has moved past ``path``'s change time, so that
    what is written next is dated after it (the clock ticks every few milliseconds)."""
    while True:
        probe.write_text("")
        if probe.stat().st_ctime_ns > path.stat().st_ctime_ns:
            return


def _judged(project: GateProject) -> dict[str, str]:
    project.run("--gate=12")
    return project.record().case("fresh")


def _reused_runner(project: GateProject, tmp_path: Path) -> tuple[Path, str]:
    """Releases 1.3.0 and 1.4.0 (both committed last year) in an author's repository; the
    runner's reused work tree cloned it and checked 1.3.0 out, whose run left a passing
    report there (untracked, modified two hours ago); the report and the 1.4.0 commit."""
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    (project.root / ".gitignore").write_text("reports/\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")
    (project.root / "app.py").write_text("VERSION = '1.3.0'\n")
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    old = _commit(author, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    (author / "app.py").write_text("VERSION = '1.4.0'\n")
    release = _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    runner_git(project.root, "clone", "-q", "--no-checkout", str(author), ".",
               when=time.time() - 5 * _HOUR)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", old,
               when=time.time() - 4 * _HOUR)
    report = _report(project.root, time.time() - 2 * _HOUR)  # 1.3.0's run
    _after(report, tmp_path / "probe")
    return report, release


def _backdate_reflog(root: Path, at: float) -> None:
    """Every entry of HEAD's reflog dated ``at`` and the file's modification time with it:
    what the job's user can do to the file (its change time the kernel keeps)."""
    log = root / ".git" / "logs" / "HEAD"
    text = re.sub(r"> \d+ [+-]\d{4}\t", f"> {int(at)} +0000\t", log.read_text())
    log.write_text(text)
    os.utime(log, (at, at))


@pytest.mark.parametrize("later", ["git reset --hard", "git checkout again", "none"])
def test_a_backdated_checkout_does_not_date_the_arrival(
        project: GateProject, tmp_path: Path, later: str) -> None:
    # rt14d A4: the checkout of 1.4.0 dated (GIT_COMMITTER_DATE on the job's checkout step)
    # before the report 1.3.0's run left, then an honest entry: every check of the reflog's
    # dates passed (rising in order, the newest at the file's time), so the stale report
    # was "put in the work tree after this checkout arrived".
    _reused_runner(project, tmp_path)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", "origin/main",
               when=time.time() - 3 * _HOUR)
    if later == "git reset --hard":
        runner_git(project.root, "reset", "-q", "--hard", "HEAD")
    elif later == "git checkout again":
        runner_git(project.root, "checkout", "-q", "--force", "main")
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    assert "the files its checkout wrote" in case["text"], case


def test_a_reflog_rewritten_with_old_dates_does_not_date_the_arrival(
        project: GateProject, tmp_path: Path) -> None:
    # The same by editing the reflog: every entry dated four hours ago, in order, and the
    # file's modification time with them. The files the checkout wrote keep their time.
    _reused_runner(project, tmp_path)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", "origin/main")
    _backdate_reflog(project.root, time.time() - 4 * _HOUR)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case


def test_an_honest_job_that_resets_after_writing_its_reports_keeps_them(
        project: GateProject, tmp_path: Path) -> None:
    # The job checks the release out, writes its report, then has git put the work tree
    # back (a clean-up step's `reset --hard`): git rewrites no file that is as committed,
    # nor the files that hold HEAD, so the arrival stays when the checkout wrote the
    # release. A later `git checkout` of the branch rewrites HEAD: the report is then
    # refused (later, never earlier, than the truth).
    _reused_runner(project, tmp_path)
    runner_git(project.root, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main",
               "refs/remotes/origin/main")
    written = project.root / ".git" / "HEAD"
    _after(written, tmp_path / "probe")
    report = _report(project.root)
    _after(report, tmp_path / "probe")
    runner_git(project.root, "reset", "-q", "--hard", "origin/main")
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))
    assert "the files its checkout wrote" in case["text"], case
    runner_git(project.root, "checkout", "-q", "--force", "main")
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "HEAD came to its commit later" in case["text"], case


def test_a_checkout_that_wrote_no_file_is_dated_by_the_reflogs_own_change(
        project: GateProject, tmp_path: Path) -> None:
    # 1.4.0 reverted to 1.3.0's content (a new commit, the same tree): the checkout from
    # 1.3.0 arrives at a new release but writes no file. The reflog file's change time (its
    # newest entry was written by that checkout) is then the arrival: the report 1.3.0's
    # run left is refused, one written after the checkout passes.
    report, _ = _reused_runner(project, tmp_path)
    author = tmp_path / "author"
    (author / "app.py").write_text("VERSION = '1.3.0'\n")
    _commit(author, "2025-08-01T12:00:00+00:00", "revert to 1.3.0's code")
    runner_git(project.root, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main",
               "refs/remotes/origin/main", when=time.time() - 3 * _HOUR)
    assert (project.root / "app.py").stat().st_ctime_ns < report.stat().st_ctime_ns
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    assert "wrote no file" in case["text"], case
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))


def test_an_entry_written_by_hand_in_front_of_the_checkout_is_refused(
        project: GateProject, tmp_path: Path) -> None:
    # rt15b A02: the earlier run appended a "clone" of 1.4.0 (from the empty commit) while
    # HEAD stayed at 1.3.0; the runner's real checkout 1.3.0 -> 1.4.0 came after it. The
    # forged line became the arrival: every file "written" by it, the oldest file's time the
    # floor, and the stale report fresh. git writes each entry from where the last one ended.
    _, release = _reused_runner(project, tmp_path)
    log = project.root / ".git" / "logs" / "HEAD"
    with log.open("a") as handle:
        handle.write(f"{'0' * 40} {release} Runner <runner@example.com> {int(time.time())} "
                     "+0000\tclone: from origin\n")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", "origin/main")
    case = _judged(project)
    assert case["outcome"] != "passed", (case, case.get("text"))
    assert "does not start where the one before it ended" in case["message"], case
