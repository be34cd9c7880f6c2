"""Freshness rt13: the times that decide whether evidence is new enough come from the
runner, never from something the release's author writes.

The release's author commits under any name and any date (``GIT_COMMITTER_DATE``), and
writes every file of the repository; the runner's own git (its reflog) and clock are not
theirs. Real git repositories, the CI checkout commands themselves, pytester end to end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate
from runner_git import runner_env, runner_git

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')
_HOUR = 3600.0


def _commit(root: Path, when: str, message: str, *paths: str) -> str:
    """A commit by the release's author, author and committer dated ``when``."""
    env = {**runner_env(), "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env,
                       capture_output=True)
    for command in (["git", "add", "-f", "--", *(paths or ["."])],
                    ["git", "commit", "-q", "-m", message]):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)
    return runner_git(root, "rev-parse", "HEAD")


def _gated(project: GateProject, check: str = "kind: junit, report: junit, "
           "not_before: commit") -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    custom_gate(project, f"- {{id: fresh, text: Fresh tests, check: {{{check}}}}}")


def _report(root: Path, mtime: float | None = None, name: str = "reports/unit.xml") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_JUNIT_PASS)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _next_second() -> None:
    """Wait for the next whole second: a reflog dates in whole seconds, so a file left in
    the same second as the checkout cannot be told from one written after it."""
    time.sleep(1.01 - time.time() % 1)


def _judged(project: GateProject, *args: str) -> dict[str, str]:
    project.run("--gate=12", *args)
    return project.record().case("fresh")


def _source(project: GateProject, tmp_path: Path, when: str) -> Path:
    """The project committed (dated ``when``) into a repository of its own, and the
    project's directory emptied: the remote a runner fetches from."""
    _commit(project.root, when, "release 1.4.0")
    source = tmp_path / "source.git"
    runner_git(tmp_path, "clone", "-q", "--bare", str(project.root), str(source))
    for entry in project.root.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return source


# -- 1. a backdated release commit ----------------------------------------------------------


def test_a_backdated_commit_does_not_make_a_reused_runners_stale_report_fresh(
        project: GateProject, tmp_path: Path) -> None:
    # A self-hosted runner that does not clean: its earlier run (of release 1.3.0) left an
    # untracked passing report two hours ago. The new release's commit is dated last year,
    # so against the commit time alone that report was "newer than the release".
    _gated(project)
    _commit(project.root, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    _report(project.root, time.time() - 2 * _HOUR)
    _next_second()
    author = tmp_path / "author"
    runner_git(tmp_path, "clone", "-q", str(project.root), str(author))
    (author / "CHANGELOG.md").write_text("## 1.4.0\n- new\n")
    release = _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    # The runner fetches and checks the new release out (actions/checkout's commands).
    runner_git(project.root, "fetch", "-q", str(author),
               "+refs/heads/main:refs/remotes/origin/main")
    runner_git(project.root, "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main")
    assert runner_git(project.root, "rev-parse", "HEAD") == release
    case = _judged(project)
    assert case["outcome"] == "failure", case
    assert "reports/unit.xml was put in the work tree" in case["message"], case
    assert "before this checkout arrived" in case["message"], case
    # A report the run writes after the checkout is fresh.
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", case
    assert "freshness-floor" in case["text"] and "HEAD's reflog" in case["text"], case


def test_re_checking_out_the_same_commit_keeps_the_runs_reports(
        project: GateProject, tmp_path: Path) -> None:
    # The checkout three hours ago, the report two hours ago; then the same commit checked
    # out again, detached, as GitLab and Jenkins do (a retried job step) and reset: no new
    # arrival at the release, git rewrites no file that holds HEAD, the report stays this
    # release's.
    _gated(project)
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".", when=time.time() - 3 * _HOUR)
    commit = runner_git(project.root, "rev-parse", "HEAD")
    runner_git(project.root, "checkout", "-q", "--force", commit)
    _report(project.root, time.time() - 2 * _HOUR)
    _next_second()
    runner_git(project.root, "checkout", "-q", "--force", commit)
    runner_git(project.root, "reset", "-q", "--hard", commit)
    case = _judged(project)
    assert case["outcome"] == "passed", case


def test_a_sign_off_committed_on_top_after_the_report_asks_for_it_again(
        project: GateProject, tmp_path: Path) -> None:
    # The checkout three hours ago, the report two hours ago; then a sign-off committed on
    # top. It is no new arrival at the release, but it moved HEAD (the branch's ref was
    # rewritten), and once HEAD moved on nothing git keeps dates the first arrival: the
    # files it wrote may be an earlier run's (rt16b A02). So the floor is the commit, and a
    # report written before it is refused (later, never earlier, than the truth); the one
    # written after it passes. (Arriving from another release is a new arrival: the first
    # test; a re-checkout of the same commit keeps the report: the test above.)
    _gated(project)
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".", when=time.time() - 3 * _HOUR)
    _report(project.root, time.time() - 2 * _HOUR)
    _next_second()
    (project.root / ".deploygate").mkdir()
    (project.root / ".deploygate" / "attestations.jsonl").write_text("")
    runner_git(project.root, "add", ".deploygate")
    runner_git(project.root, "commit", "-q", "-m", "sign-off")
    case = _judged(project)
    assert case["outcome"] == "failure", case
    assert "before this checkout arrived" in case["message"], case
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", case


_CI_CHECKOUTS = {
    "git clone": [["clone", "-q", "{source}", "."]],
    "actions/checkout": [["init", "-q"], ["remote", "add", "origin", "{source}"],
                         ["-c", "protocol.version=2", "fetch", "-q", "--no-tags", "--prune",
                          "--no-recurse-submodules", "origin",
                          "+refs/heads/*:refs/remotes/origin/*"],
                         ["checkout", "-q", "--progress", "--force", "-B", "main",
                          "refs/remotes/origin/main"]],
    "gitlab fetch": [["init", "-q"], ["remote", "add", "origin", "{source}"],
                     ["fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*"],
                     ["checkout", "-f", "-q", "{commit}"]],
}


@pytest.mark.parametrize("checkout", sorted(_CI_CHECKOUTS))
def test_every_ci_checkout_dates_its_arrival(project: GateProject, tmp_path: Path,
                                             checkout: str) -> None:
    # Each CI checkout writes the reflog entry the floor is read from: a report of this run
    # passes, and the record names the arrival. Where the checkout goes into a reused folder
    # (actions/checkout, GitLab), a report an earlier run left there is refused.
    _gated(project)
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    commit = runner_git(source, "rev-parse", "HEAD")
    left = checkout != "git clone"  # (git clone wants an empty folder)
    if left:
        _report(project.root, time.time() - _HOUR)
        _next_second()
    for command in _CI_CHECKOUTS[checkout]:
        runner_git(project.root, *(part.format(source=source, commit=commit) for part in command))
    if left:
        case = _judged(project)
        assert case["outcome"] == "failure", case
        assert "before this checkout arrived" in case["message"], case
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "passed", case
    assert "arrival at it" in case["text"] and "the files its checkout wrote" in case["text"], \
        case


def test_an_artifact_extracted_with_its_old_modification_time_is_this_runs(
        project: GateProject, tmp_path: Path) -> None:
    # An earlier job of the same pipeline wrote the report in its own workspace; this job
    # checked out, then extracted the artifact keeping the file's time (as tar and GitLab's
    # artifacts do): older than this checkout, yet put here after it.
    _gated(project)
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".")
    _report(project.root, time.time() - _HOUR)
    assert _judged(project)["outcome"] == "passed"


@pytest.mark.parametrize("how", ["never written", "removed by the job", "HEAD moved without"])
def test_without_a_reflog_that_ends_at_head_the_floor_is_unknown(
        project: GateProject, tmp_path: Path, how: str) -> None:
    # The commit time stood in, but it is the committer's claim and the reflog is the job
    # user's file: removing it (or moving HEAD without an entry) on a reused runner made a
    # backdated release's stale reports fresh. No floor: the evidence is missing.
    _gated(project)
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    if how == "never written":
        runner_git(project.root, "-c", "core.logAllRefUpdates=false", "clone", "-q",
                   str(source), ".")
        shutil.rmtree(project.root / ".git" / "logs", ignore_errors=True)
        runner_git(project.root, "config", "core.logAllRefUpdates", "false")
    else:
        runner_git(project.root, "clone", "-q", str(source), ".")
        runner_git(project.root, "commit", "-q", "--allow-empty", "-m", "bookkeeping")
        if how == "removed by the job":
            (project.root / ".git" / "logs" / "HEAD").unlink()
        else:
            head = runner_git(project.root, "rev-parse", "HEAD~1")
            (project.root / ".git" / "HEAD").write_text(head + "\n")
    _report(project.root)  # (written now: still no floor to hold it to)
    case = _judged(project)
    assert case["outcome"] != "passed", case
    assert "is unknown" in case["message"] and "reflog" in case["message"], case


def test_a_replay_holds_reports_to_the_commit_time(project: GateProject,
                                                   tmp_path: Path) -> None:
    # --gate-now in the past: this checkout arrived after the replayed moment, so the
    # arrival says nothing about it; the commit time is the floor, and the record says so.
    _gated(project)
    source = _source(project, tmp_path, "2026-03-01T11:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".")
    _report(project.root, 1772364600.0)  # 2026-03-01T11:30:00Z
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "passed", case
    assert "a replay" in case["text"], case
    _report(project.root, 1772359200.0)  # 2026-03-01T10:00:00Z
    assert _judged(project, "--gate-now=2026-03-01T12:00:00Z")["outcome"] == "failure"


# -- times after the evaluation clock -------------------------------------------------------


def test_a_release_commit_dated_after_the_clock_is_impossible_evidence(
        project: GateProject, tmp_path: Path) -> None:
    _gated(project)
    source = _source(project, tmp_path, "2099-01-01T00:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".")
    _report(project.root)
    case = _judged(project)
    assert case["outcome"] == "error", case
    assert "after the evaluation time" in case["message"], case


def test_a_committed_report_dated_after_the_clock_is_not_young(project: GateProject) -> None:
    # A report committed (as bookkeeping) two years ago, its commit dated 2099: as old as
    # the earlier of its checkout and its commit, it looked written at the checkout.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [.isdlc/reports/*.xml]\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, max_age_days: 1}}")
    _commit(project.root, "2024-01-01T12:00:00+00:00", "release 1.4.0")
    _report(project.root, name=".isdlc/reports/unit.xml")
    _commit(project.root, "2099-01-01T12:00:00+00:00", "reports", ".isdlc/reports")
    case = _judged(project)
    assert case["outcome"] == "error", case
    assert "after the evaluation time" in case["message"], case


def test_a_report_modified_in_the_future_is_impossible_evidence(project: GateProject,
                                                                 tmp_path: Path) -> None:
    # A stale report whose modification time was set ahead (touch -d, or an archive made on
    # a machine whose clock said so) looked newer than any release and never aged.
    _gated(project, "kind: junit, report: junit, not_before: commit, max_age_days: 1")
    source = _source(project, tmp_path, "2025-07-01T12:00:00+00:00")
    runner_git(project.root, "clone", "-q", str(source), ".")
    _report(project.root, 4102444800.0)  # 2100-01-01
    case = _judged(project)
    assert case["outcome"] == "error", case
    assert "modified" in case["message"] and "in the future" in case["message"], case


def test_an_artifact_committed_in_the_future_is_not_young(project: GateProject) -> None:
    # The runbook untouched for years, recommitted with a date in 2099: as old as the earlier
    # of its checkout and its commit, it was as young as the checkout.
    project.set_state({"phases": {}})
    (project.root / "gate_specs").mkdir()
    (project.root / "gate_specs" / "12-production.yaml").write_text(
        "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Artifacts\nphase: 12-production\n"
        "decision: [{id: all, title: All}]\nartifacts: [{id: runbook, name: Runbook, "
        "path: RUNBOOK.md, max_age_days: 30}]\nsections:\n"
        "  - {id: s, title: S, stage: pre, decision: all, criteria: "
        "[{id: phases, text: Phases, check: {kind: state, path: phases}}]}\n")
    (project.root / "RUNBOOK.md").write_text("# Runbook\n\nRestart the service.\n")
    _commit(project.root, "2099-01-01T12:00:00+00:00", "runbook")
    project.run("--gate=12")
    case = project.record().case("runbook")
    assert case["outcome"] == "error", case
    assert "after the evaluation time" in case["message"], case


_CAPTURE = ('# TYPE http_requests_total counter\n'
            'http_requests_total{code="200"} 1000\nhttp_requests_total{code="500"} 1\n')


def test_a_metrics_capture_modified_in_the_future_is_impossible(project: GateProject) -> None:
    # A capture of an old deploy with its time set ahead never reached the default day.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nmetrics_file: reports/production.prom\n")
    capture = project.root / "reports" / "production.prom"
    capture.parent.mkdir()
    capture.write_text(_CAPTURE)
    os.utime(capture, (4102444800.0, 4102444800.0))  # 2100-01-01
    custom_gate(project, "- {id: fresh, text: Error ratio, check: {kind: metrics_file, "
                         "metric: error_ratio, max: 0.05}}")
    case = _judged(project)
    assert case["outcome"] == "error", case
    assert "in the future" in case["message"], case


# -- 3. committed content that git diff calls changed -----------------------------------------


def _crlf_report_committed(project: GateProject, check: str) -> None:
    """A release, then a passing report committed under bookkeeping with CRLF line ends,
    then a ``text`` attribute for it: git diff now calls the checked-out file changed."""
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [.isdlc/reports/*.xml]\n")
    custom_gate(project, f"- {{id: fresh, text: Fresh tests, check: {{{check}}}}}")
    _commit(project.root, "2026-01-01T12:00:00+00:00", "release 1.4.0")
    report = project.root / ".isdlc" / "reports" / "unit.xml"
    report.parent.mkdir(parents=True)
    report.write_bytes(_JUNIT_PASS.replace("\n", "\r\n").encode())
    _commit(project.root, "2026-01-02T12:00:00+00:00", "reports", ".isdlc/reports")
    (report.parent / ".gitattributes").write_text("*.xml text\n")
    _commit(project.root, "2026-01-02T12:00:00+00:00", "attributes",
            ".isdlc/reports/.gitattributes")
    # A CI runner's fresh checkout writes every tracked file now.
    for path in report.parent.iterdir():
        path.unlink()
    runner_git(project.root, "checkout", "-q", "--", ".")
    # Its index entry's times no longer match (as when the checkout wrote it in the same
    # second as the index: "racily clean"), so git compares the content after conversion.
    os.utime(report, (time.time() + 1, time.time() + 1))
    assert runner_git(project.root, "status", "--porcelain", "--", ".isdlc/reports"), \
        "git no longer calls the file changed: the test needs another way"


@pytest.mark.parametrize("check", ["kind: junit, report: junit, not_before: commit",
                                   "kind: junit, report: junit, max_age_days: 7"])
def test_a_committed_report_git_calls_changed_is_still_committed(project: GateProject,
                                                                  check: str) -> None:
    _crlf_report_committed(project, check)
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "failure", case
    assert "committed" in case["message"], case


def test_a_committed_report_changed_by_the_run_is_the_runs(project: GateProject) -> None:
    # The same file rewritten by this run (other bytes than the committed ones): its
    # modification time is the run's.
    _crlf_report_committed(project, "kind: junit, report: junit, max_age_days: 7")
    _report(project.root, name=".isdlc/reports/unit.xml")
    case = _judged(project)
    assert case["outcome"] == "passed", case


# -- 2. a metrics capture committed as release content ----------------------------------------


def _capture_gate(project: GateProject, path: str) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(f"version: 1.4.0\nmetrics_file: {path}\n")
    capture = project.root / path
    capture.parent.mkdir(parents=True, exist_ok=True)
    capture.write_text(_CAPTURE)
    custom_gate(project, "- {id: fresh, text: Error ratio, check: {kind: metrics_file, "
                         "metric: error_ratio, max: 0.05}}")


def test_a_capture_committed_with_the_release_is_refused_a_post_deploy_one_is_dated(
        project: GateProject) -> None:
    # Release content existed before the release commit, so before its deploy: refused
    # however recent its commit. Committed after the deploy with the post-deployment records
    # (bookkeeping), it is the deploy's, as old as its commit.
    _capture_gate(project, "reports/production.prom")
    _commit(project.root, "2026-03-01T11:00:00+00:00", "release 1.4.0")
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "error", case
    assert "reports/production.prom is committed release content" in case["message"], case

    artifacts = ".isdlc/phases/12-production/artifacts/production.prom"
    runner_git(project.root, "rm", "-q", "reports/production.prom")
    _capture_gate(project, artifacts)
    # (This deploy's own capture: other numbers than the one committed with 1.4.0, whose
    # bytes existed before the release commit; test_attack_rt13b.)
    (project.root / artifacts).write_text(_CAPTURE.replace(" 1000\n", " 2000\n"))
    _commit(project.root, "2026-03-01T11:00:00+00:00", "release 1.4.1", "deploygate.yaml")
    _commit(project.root, "2026-03-01T11:30:00+00:00", "post-deployment capture",
            ".isdlc/phases")
    case = _judged(project, "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] == "passed", case
    case = _judged(project, "--gate-now=2026-03-03T12:00:00Z")
    assert case["outcome"] == "error" and "stale capture" in case["message"], case


# -- reflog lines as git writes them, whatever the names in them ---------------------------


def _reused_runner_checks_out_a_backdated_release(project: GateProject, tmp_path: Path,
                                                  committer: str) -> None:
    """The first test's runner, with ``committer`` naming it on the checkout step."""
    _gated(project)
    _commit(project.root, "2025-06-01T12:00:00+00:00", "release 1.3.0")
    _report(project.root, time.time() - 2 * _HOUR)
    _next_second()
    author = tmp_path / "author"
    runner_git(tmp_path, "clone", "-q", str(project.root), str(author))
    (author / "CHANGELOG.md").write_text("## 1.4.0\n- new\n")
    _commit(author, "2025-07-01T12:00:00+00:00", "release 1.4.0")
    runner_git(project.root, "fetch", "-q", str(author),
               "+refs/heads/main:refs/remotes/origin/main")
    subprocess.run(["git", "checkout", "-q", "--force", "-B", "main",
                    "refs/remotes/origin/main"], cwd=project.root, check=True,
                   env={**runner_env(), "GIT_COMMITTER_NAME": committer}, capture_output=True)


@pytest.mark.parametrize("committer", ["CI\tRunner", "CI Runner\t", "Runner 1 +0000\tx"])
def test_a_tab_in_the_runners_name_does_not_hide_the_checkout(
        project: GateProject, tmp_path: Path, committer: str) -> None:
    # git keeps a tab inside a name: reading each line up to its first tab dropped the
    # checkout's entries, the arrival was "unknown" and the backdated commit time the floor.
    _reused_runner_checks_out_a_backdated_release(project, tmp_path, committer)
    case = _judged(project)
    assert case["outcome"] == "failure", case
    assert "before this checkout arrived" in case["message"], case


def test_a_reflog_line_that_is_not_gits_leaves_the_arrival_unknown(
        project: GateProject, tmp_path: Path) -> None:
    # A line the reader cannot take apart may be the arrival itself: skipping it moved the
    # floor to an older entry or to the committer's date. Nothing is known: evidence missing.
    _reused_runner_checks_out_a_backdated_release(project, tmp_path, "Runner")
    reflog = project.root / ".git" / "logs" / "HEAD"
    lines = reflog.read_bytes().splitlines(keepends=True)
    reflog.write_bytes(b"".join([*lines[:-1], b"garbage " + lines[-1]]))
    _report(project.root)  # (even a report written now: the floor itself is unknown)
    case = _judged(project)
    assert case["outcome"] != "passed", case
    assert "not git's" in case["message"], case
