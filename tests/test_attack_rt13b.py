"""rt13b: attacks on session 13's evidence changes (freshness floor from HEAD's reflog,
metrics captures, Alertmanagers and series, the removal of a gate's earlier records).

Real git repositories and the CI checkout commands themselves, pytester end to end.
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


def _gated(project: GateProject) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    (project.root / ".gitignore").write_text("reports/\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")


def _report(root: Path, mtime: float | None = None) -> Path:
    path = root / "reports" / "unit.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_JUNIT_PASS)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _next_second() -> None:
    """Wait for the next whole second (a reflog dates in whole seconds)."""
    time.sleep(1.01 - time.time() % 1)


def _judged(project: GateProject, *args: str) -> dict[str, str]:
    project.run("--gate=12", *args)
    return project.record().case("fresh")


# -- the floor: arriving at the release from a later release ---------------------------------


def test_reports_of_a_later_release_do_not_count_for_an_earlier_one(
        project: GateProject, tmp_path: Path) -> None:
    # A reused runner built 1.5.0 (a descendant of 1.4.0 with other code) three hours ago;
    # its passing report stayed in the work tree. Then the job deploys 1.4.0 again (a
    # rollback, a re-run of an older pipeline): it checks out the older commit. 1.5.0's
    # commit "holds" 1.4.0's, yet it is another release: its report is no test of 1.4.0.
    _gated(project)
    (project.root / "app.py").write_text("VERSION = '1.4.0'\n")
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    release = _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    (author / "app.py").write_text("VERSION = '1.5.0'\n")
    _commit(author, "2025-07-02T12:00:00+00:00", "release 1.5.0")
    runner_git(project.root, "clone", "-q", str(author), ".", when=time.time() - 3 * _HOUR)
    _report(project.root, time.time() - 2 * _HOUR)
    _next_second()
    runner_git(project.root, "checkout", "-q", "--force", release)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case


# -- the removal of earlier records: a run that stops without deciding -----------------------


_FAILING = ('<testsuite name="s" tests="1" failures="1"><testcase classname="a" name="t1">'
            '<failure message="boom"/></testcase></testsuite>\n')


def _monorepo(project: GateProject) -> None:
    """Projects svc-a and svc-b, each with its own folder and deploygate.yaml, gated by one
    spec of tests each project's run reports."""
    custom_gate(project, "- {id: tests, text: Tests pass, check: {kind: junit, "
                         "report: junit}}")
    (project.root / ".gitignore").write_text("reports/\ngate-records/\n")
    for pid in ("svc-a", "svc-b"):
        state = project.root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(f'{{"project": {{"name": "{pid}"}}, "phases": {{}}}}')
        folder = project.root / pid
        folder.mkdir(exist_ok=True)
        (folder / "deploygate.yaml").write_text(
            "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
        (folder / "reports").mkdir(exist_ok=True)
        (folder / "reports" / "unit.xml").write_text(_JUNIT_PASS)
    if project.state_path.exists():
        project.state_path.unlink()
    _commit(project.root, "2025-07-01T12:00:00+00:00", "two projects")


def test_a_broken_config_of_another_project_leaves_no_pass_of_this_one(
        project: GateProject) -> None:
    # svc-a passed. Then its tests fail (same release: nothing of svc-a changed), and a
    # commit breaks svc-b's deploygate.yaml: svc-b's release changed, svc-a's did not. The
    # run stops before deciding (a config problem); svc-a's earlier PASS must not survive it
    # for a deploy job of svc-a to find.
    _monorepo(project)
    assert project.run("--gate=12", "--gate-project=all").ret == 0
    assert "PASS" in (project.root / "gate-records" / "svc-a" / "GATE-12.md").read_text()
    (project.root / "svc-a" / "reports" / "unit.xml").write_text(_FAILING)
    (project.root / "svc-b" / "deploygate.yaml").write_text("version: 1.4.0\nthreshold: 3\n")
    _commit(project.root, "2025-07-02T12:00:00+00:00", "svc-b: config")
    result = project.run("--gate=12", "--gate-project=all")
    assert result.ret == 2
    assert "svc-b/deploygate.yaml" in result.stdout.str() + result.stderr.str()
    for pid in ("svc-a", "svc-b"):
        assert not (project.root / "gate-records" / pid / "GATE-12.xml").exists(), pid
        assert not (project.root / "gate-records" / pid / "GATE-12.md").exists(), pid


# -- metrics_file: a capture committed as bookkeeping before the release ---------------------


_CAPTURE = ('# TYPE http_requests_total counter\n'
            'http_requests_total{code="200"} 1000\nhttp_requests_total{code="500"} 1\n')
_ARTIFACTS = ".isdlc/phases/12-production/artifacts/production.prom"


def test_the_last_deploys_capture_is_no_capture_of_the_next_release(
        project: GateProject) -> None:
    # 1.4.0's post-deployment capture was committed as bookkeeping; then 1.4.1 (other code)
    # is committed on top the same morning. Gating 1.4.1, the capture git names is 1.4.0's
    # deploy's: it existed before 1.4.1's release commit, however recent its date.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(f"version: 1.4.0\nmetrics_file: {_ARTIFACTS}\n")
    (project.root / "app.py").write_text("VERSION = '1.4.0'\n")
    custom_gate(project, "- {id: fresh, text: Error ratio, check: {kind: metrics_file, "
                         "metric: error_ratio, max: 0.05}}")
    _commit(project.root, "2026-03-01T08:00:00+00:00", "release 1.4.0")
    capture = project.root / _ARTIFACTS
    capture.parent.mkdir(parents=True, exist_ok=True)
    capture.write_text(_CAPTURE)
    _commit(project.root, "2026-03-01T09:00:00+00:00", "1.4.0 post-deployment capture")
    case = _judged(project, "--gate-now=2026-03-01T09:30:00Z")
    assert case["outcome"] == "passed", case  # (1.4.0's own capture)
    (project.root / "deploygate.yaml").write_text(f"version: 1.4.1\nmetrics_file: {_ARTIFACTS}\n")
    (project.root / "app.py").write_text("VERSION = '1.4.1'\n")
    _commit(project.root, "2026-03-01T11:00:00+00:00", "release 1.4.1")
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "error", case
    assert "an earlier deploy's capture" in case["message"], case


# -- committed evidence checked out through the runner's own git configuration ----------------


def test_a_committed_report_checked_out_with_the_runners_autocrlf_is_still_committed(
        project: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A runner whose git converts line endings on checkout (core.autocrlf in its global
    # configuration, as Git for Windows sets in its system one) writes a committed LF report
    # with CRLF. The gate's own git reads no global configuration: the work-tree bytes were
    # neither the blob nor its checkout, so a stale report committed as bookkeeping looked
    # written by this run, as new as the checkout.
    runner_config = tmp_path / "runner.gitconfig"
    runner_config.write_text("[core]\n\tautocrlf = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(runner_config))
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [.isdlc/reports/*.xml]\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")
    report = project.root / ".isdlc" / "reports" / "unit.xml"
    report.parent.mkdir(parents=True)
    report.write_text(_JUNIT_PASS)
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0, a report of last year")
    subprocess.run(["git", "clone", "-q", str(author), "."], cwd=project.root, check=True,
                   env={**runner_env(), "GIT_CONFIG_GLOBAL": str(runner_config)},
                   capture_output=True)
    assert report.read_bytes().count(b"\r\n") == 1
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "committed bookkeeping" in case["message"], case


def test_a_capture_from_before_the_release_moved_after_it_is_still_from_before_the_deploy(
        project: GateProject) -> None:
    # The staging capture was committed as bookkeeping before the release commit; after the
    # deploy a commit moves it to the production capture's path, where a capture committed
    # after the deploy is dated by its commit. Its content existed before the release
    # commit: no capture of the deploy, whatever its path now.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(f"version: 1.4.0\nmetrics_file: {_ARTIFACTS}\n")
    custom_gate(project, "- {id: fresh, text: Error ratio, check: {kind: metrics_file, "
                         "metric: error_ratio, max: 0.05}}")
    staging = project.root / ".isdlc" / "phases" / "11-test-deploy" / "artifacts" / "staging.prom"
    staging.parent.mkdir(parents=True)
    staging.write_text(_CAPTURE)
    _commit(project.root, "2026-03-01T07:00:00+00:00", "staging capture")
    (project.root / "app.py").write_text("VERSION = '1.4.0'\n")
    _commit(project.root, "2026-03-01T08:00:00+00:00", "release 1.4.0")
    (project.root / _ARTIFACTS).parent.mkdir(parents=True)
    runner_git(project.root, "mv", str(staging.relative_to(project.root)), _ARTIFACTS)
    _commit(project.root, "2026-03-01T11:00:00+00:00", "post-deployment capture")
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "error", case
    assert "existed before the release commit" in case["message"], case


# -- the arrival: reflog times that are not when the entries were written ---------------------


def test_a_checkout_dated_by_the_jobs_environment_is_no_arrival(
        project: GateProject, tmp_path: Path) -> None:
    # GIT_COMMITTER_DATE in the job's environment (a CI variable) dates the runner's reflog
    # entries too: the checkout "arrived" last year, and a report an earlier run left in
    # the reused work tree was newer than that. The files the checkout wrote were changed
    # when it wrote them, by the kernel's clock (rt14d: the reflog's dates are not read).
    _gated(project)
    (project.root / "app.py").write_text("VERSION = '1.3.0'\n")
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    old = _commit(author, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    (author / "app.py").write_text("VERSION = '1.4.0'\n")
    _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    runner_git(project.root, "clone", "-q", "--no-checkout", str(author), ".")
    runner_git(project.root, "checkout", "-q", "--force", old, when=time.time() - 3 * _HOUR)
    _report(project.root, time.time() - 2 * _HOUR)  # 1.3.0's run
    _next_second()
    forged = time.mktime(time.strptime("2025-07-02", "%Y-%m-%d"))
    runner_git(project.root, "checkout", "-q", "--force", "main", when=forged)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    # (The reflog's dates are not read: the files the checkout wrote date it.)
    assert "the files its checkout wrote" in case["text"], case
    # A future date (a "replay" for the floor) is the same lie.
    runner_git(project.root, "checkout", "-q", "--force", old)
    _next_second()
    runner_git(project.root, "checkout", "-q", "--force", "main", when=time.time() + 48 * _HOUR)
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    # A report of this run is fresh.
    _report(project.root)
    assert _judged(project)["outcome"] == "passed"


def _reused_runner_at_the_old_release(project: GateProject, tmp_path: Path,
                                      checked_out: float | None) -> None:
    """Releases 1.3.0 and 1.4.0 committed in an author's repository; the runner's reused
    work tree cloned it (its ``origin``) and checked 1.3.0 out (dated ``checked_out``; None:
    by the runner's clock), whose run then left a passing report there."""
    _gated(project)
    (project.root / "app.py").write_text("VERSION = '1.3.0'\n")
    author = tmp_path / "author"
    author.mkdir()
    for entry in project.root.iterdir():
        os.rename(entry, author / entry.name)
    old = _commit(author, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    (author / "app.py").write_text("VERSION = '1.4.0'\n")
    _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    runner_git(project.root, "clone", "-q", "--no-checkout", str(author), ".",
               when=time.time() - 5 * _HOUR)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", old, when=checked_out)
    _next_second()
    _report(project.root, time.time() - 2 * _HOUR)  # 1.3.0's run
    _next_second()


def test_a_job_dated_checkout_that_writes_two_entries_is_no_arrival(
        project: GateProject, tmp_path: Path) -> None:
    # rt14c: actions/checkout's own `checkout --force -B main refs/remotes/origin/main` on a
    # reused runner writes two entries ("branch: Reset to", "checkout: moving from main to
    # main"), both dated by GIT_COMMITTER_DATE in the job's environment (three hours ago).
    # The arrival is the older one, not the newest: its date was believed, and the report
    # 1.3.0's run left two hours ago counted as 1.4.0's.
    _reused_runner_at_the_old_release(project, tmp_path, time.time() - 4 * _HOUR)
    runner_git(project.root, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main",
               "refs/remotes/origin/main", when=time.time() - 3 * _HOUR)
    messages = [line.partition("\t")[2] for line in
                (project.root / ".git" / "logs" / "HEAD").read_text().splitlines()]
    assert messages[-2].startswith("branch: Reset to"), messages
    assert messages[-1] == "checkout: moving from main to main", messages
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "before this checkout arrived" in case["message"], case
    # (The reflog's dates are not read: the files the checkout wrote date it.)
    assert "the files its checkout wrote" in case["text"], case
    # A report of this run is fresh.
    _report(project.root)
    assert _judged(project)["outcome"] == "passed"


def test_a_backdated_arrival_behind_an_honest_newest_entry_is_no_arrival(
        project: GateProject, tmp_path: Path) -> None:
    # The checkout of 1.4.0 dated three hours ago (before the entry of 1.3.0's checkout it
    # left), then the same commit checked out again with the runner's clock: the newest
    # entry agrees with the file's time, but the arrival's date is older than the entry
    # written before it. (The files the checkout wrote date it, whatever the entries say.)
    _reused_runner_at_the_old_release(project, tmp_path, None)
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", "origin/main",
               when=time.time() - 3 * _HOUR)
    runner_git(project.root, "checkout", "-q", "--force", "main")
    case = _judged(project)
    assert case["outcome"] == "failure", (case, case.get("text"))
    assert "the files its checkout wrote" in case["text"], case


def test_an_honest_reused_runner_keeps_its_arrival(project: GateProject,
                                                   tmp_path: Path) -> None:
    # A reused runner's honest history: checkouts of earlier releases hours ago (older
    # entries, in order), fetches (no HEAD entry), actions/checkout's two entries for this
    # release, a retried step re-checking it out: the run's report, written after the
    # arrival, passes. The floor is the arrival (the files it wrote), not later.
    _reused_runner_at_the_old_release(project, tmp_path, time.time() - 4 * _HOUR)
    runner_git(project.root, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main",
               "refs/remotes/origin/main")
    _next_second()
    _report(project.root)
    _next_second()
    runner_git(project.root, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
    runner_git(project.root, "reset", "-q", "--hard", "origin/main")
    case = _judged(project)
    assert case["outcome"] == "passed", (case, case.get("text"))
    assert "the files its checkout wrote" in case["text"], case
