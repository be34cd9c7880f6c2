"""One release, many commits: the gated release is the release content (commit, tree, version),
not git HEAD. End to end in real repositories with several authors, merges and a tag, built by
examples/release_repo.py (the README's main command) and gated through pytester; sign-offs are
committed by their signers after the pre stage, as real pipelines do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import INNER_ARGS, GateProject, release_repo_script

JO, RAVI, MARIA = "jo.dev@acme.example", "ravi.patel@acme.example", "maria.lopez@acme.example"


def _release_repo() -> ModuleType:
    return release_repo_script("release_repo")


release_repo = _release_repo()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release repository as the pre stage sees it (built once; tests copy it)."""
    return release_repo.materialise(tmp_path_factory.mktemp("release") / "acme-api",
                                    deployed=False)


@pytest.fixture
def release(pytester: pytest.Pytester, built: Path) -> GateProject:
    """A copy of the pre-deploy release repository (history, tag and file times kept), its
    reports (CI output) put there after the checkout's files, as a run writes them: copied
    in one go, a report copied before CHANGELOG.md was put in the work tree before the
    release arrived (the freshness floor is that file's inode change time)."""
    shutil.copytree(built, pytester.path, dirs_exist_ok=True, symlinks=True,
                    ignore=lambda folder, names: ["reports"] if Path(folder) == built else [])
    shutil.copytree(built / "reports", pytester.path / "reports", symlinks=True)
    return GateProject(pytester)


def git(project: GateProject, *args: str, who: str = JO) -> str:
    return release_repo.Repo(project.root).run(*args, who=who, at="2026-02-03T11:55:00Z")


def gate(project: GateProject, *args: str) -> pytest.RunResult:
    return project.pytester.runpytest(*INNER_ARGS, "--gate=12", *args)


def verdict(project: GateProject, record: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "verdict", record],
                          cwd=project.root, capture_output=True, text=True, check=False)


def release_commit(project: GateProject) -> str:
    """Ravi's feature commit: the newest commit that changes release content."""
    return git(project, "log", "-1", "--format=%H", "feature/changelog-1.4.0")


def signed_after_deploy(project: GateProject) -> GateProject:
    release_repo.sign_post_deploy(project.root)
    return project


# -- the staged flow as real teams run it ------------------------------------------------------

def test_pre_then_post_sign_offs_then_post_binds_and_the_gate_passes(release: GateProject
                                                                     ) -> None:
    commit = release_commit(release)
    result = gate(release, "--gate-stage=pre")
    assert result.ret == 0, result.stdout.str()
    pre = release.record("GATE-12-pre")
    assert pre.decision == "PASS"
    assert pre.properties["deploygate.commit"] == commit
    assert pre.properties["deploygate.dirty"] == "false"
    tree = pre.properties["deploygate.tree"]
    assert len(tree) == 40

    head_before = git(release, "rev-parse", "HEAD")
    signed_after_deploy(release)
    assert git(release, "rev-parse", "HEAD") != head_before  # sign-offs moved HEAD ...

    result = gate(release, "--gate-stage=post")
    assert result.ret == 0, result.stdout.str()
    post = release.record("GATE-12-post")
    assert post.decision == "PASS"
    assert post.properties["deploygate.commit"] == commit  # ... but not the release
    assert post.properties["deploygate.tree"] == tree
    assert post.case("pre-stage-record")["outcome"] == "passed"
    assert f"commit {commit[:12]} tree {tree[:12]} version 1.4.0" in post.case(
        "pre-stage-record")["text"]
    assert post.case("version-tagged")["outcome"] == "passed"
    assert post.case("smoke-tests-passing")["outcome"] == "passed"  # not_before: commit
    assert "authorship=not-verified" not in post.case("deployment-completed")["text"]

    result = gate(release)
    assert result.ret == 0, result.stdout.str()
    assert release.record().decision == "PASS"
    for record in ("GATE-12-pre.xml", "GATE-12-post.xml", "GATE-12.xml"):
        done = verdict(release, f"gate-records/{record}")
        assert done.returncode == 0, done.stdout + done.stderr


def _failing_tests(project: GateProject) -> None:
    report = project.root / "reports" / "junit" / "unit.xml"
    report.write_text(report.read_text().replace(
        '<testcase classname="tests.test_orders" name="test_cancel_order" time="0.36"/>',
        '<testcase classname="tests.test_orders" name="test_cancel_order" time="0.36">'
        '<failure message="assert 409 == 200"/></testcase>').replace(
        'name="orders" tests="4" failures="0"', 'name="orders" tests="4" failures="1"'))


def _rollback_capture(project: GateProject) -> None:
    capture = project.root / "reports" / "metrics" / "production.prom"
    capture.write_text(capture.read_text().replace(
        'http_requests_total{code="500",method="GET"} 96',
        'http_requests_total{code="500",method="GET"} 21000'))


def _sarif(project: GateProject, **result: object) -> None:
    scan = project.root / "reports" / "security" / "dependency-scan.sarif"
    doc = json.loads(scan.read_text())
    doc["runs"][0]["results"].append({
        "ruleId": "EX-HIGH-007", "level": "error", "message": {"text": "SQL injection"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/orders.py"},
                                            "region": {"startLine": 40}}}], **result})
    scan.write_text(json.dumps(doc))


def _skipped_staging(project: GateProject) -> None:
    phase = project.state()["phases"]["11-test-deploy"]
    phase.update(status="skipped", gate_passed=False)
    project.edit_state("phases.11-test-deploy", phase)


@pytest.mark.parametrize(("variant", "decision", "code", "item", "outcome"), [
    (_failing_tests, "FAIL", 1, "all-tests-passing", "failure"),
    (_rollback_capture, "ROLLBACK", 2, "error-rate-above-threshold", "failure"),
    (lambda p: _sarif(p), "FAIL", 1, "security-scan-clean", "failure"),
    (lambda p: _sarif(p, baselineState="new"), "ROLLBACK", 2, "security-issue-discovered",
     "failure"),
    (lambda p: git(p, "tag", "-d", "v1.4.0"), "FAIL", 1, "version-tagged", "failure"),
    (_skipped_staging, "SKIPPED", 3, "gate-11-passed", "skipped"),
], ids=["failing-tests", "rollback-capture", "high-pre-deploy-finding",
        "new-finding-after-deploy", "missing-tag", "staging-skipped"])
def test_decisions_of_the_release(release: GateProject, variant, decision: str, code: int,
                                  item: str, outcome: str) -> None:
    signed_after_deploy(release)
    variant(release)
    gate(release)
    record = release.record()
    assert record.decision == decision, record.properties.get("deploygate.reason")
    assert record.case(item)["outcome"] == outcome
    assert verdict(release, "gate-records/GATE-12.xml").returncode == code


def test_a_known_high_finding_fails_the_pre_stage_and_never_rolls_back(release: GateProject
                                                                       ) -> None:
    _sarif(release)
    assert gate(release, "--gate-stage=pre").ret == 1
    pre = release.record("GATE-12-pre")
    assert pre.decision == "FAIL"
    assert "EX-HIGH-007 [high] at app/orders.py:40" in pre.case("security-scan-clean")["message"]
    signed_after_deploy(release)
    gate(release, "--gate-stage=post")
    post = release.record("GATE-12-post")
    assert post.case("security-issue-discovered")["outcome"] == "passed"
    assert post.decision == "FAIL"  # bound to a failing pre stage, not a rollback
    assert "its decision is 'FAIL', not PASS" in post.case("pre-stage-record")["message"]


# -- bad input: each a clear FAIL naming what differs ------------------------------------------

def test_a_tag_on_another_release_fails_naming_what_differs(release: GateProject) -> None:
    signed_after_deploy(release)
    first = git(release, "rev-list", "--max-parents=0", "HEAD")
    git(release, "tag", "-f", "-a", "v1.4.0", "-m", "moved", first, who=MARIA)
    result = gate(release)
    assert result.ret == 1
    case = release.record().case("version-tagged")
    assert case["type"] == "not-met"
    assert f"tag v1.4.0 (commit {first[:12]}) is on another release" in case["message"]
    assert "CHANGELOG.md" in case["message"]
    assert "Traceback" not in result.stdout.str()


def test_a_content_change_after_the_pre_stage_is_a_new_release(release: GateProject) -> None:
    assert gate(release, "--gate-stage=pre").ret == 0
    old = release_commit(release)
    (release.root / "CHANGELOG.md").write_text("# Changelog\n\n## [1.4.0] - 2026-02-02\n\n"
                                              "- a hotfix nobody gated\n")
    git(release, "commit", "-q", "-am", "hotfix", who=JO)
    new = git(release, "rev-parse", "HEAD")
    signed_after_deploy(release)
    result = gate(release, "--gate-stage=post")
    assert result.ret == 1
    case = release.record("GATE-12-post").case("pre-stage-record")
    assert case["type"] == "not-met"
    assert f"it is for commit '{old}', this release is {new}" in case["message"]
    assert "release tree" in case["message"]
    done = verdict(release, "gate-records/GATE-12-pre.xml")
    assert done.returncode == 4
    assert "it is for commit" in done.stderr
    assert "Traceback" not in result.stdout.str() + done.stderr


def test_a_dirty_tree_at_the_post_stage_does_not_bind(release: GateProject) -> None:
    assert gate(release, "--gate-stage=pre").ret == 0
    signed_after_deploy(release)
    changelog = release.root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "- uncommitted\n")
    (release.root / "notes.txt").write_text("untracked files are not release content\n")
    result = gate(release, "--gate-stage=post")
    assert result.ret == 1
    post = release.record("GATE-12-post")
    assert post.properties["deploygate.dirty"] == "true"
    message = post.case("pre-stage-record")["message"]
    assert "uncommitted changes to release content (CHANGELOG.md)" in message
    assert "notes.txt" not in message
    assert verdict(release, "gate-records/GATE-12-pre.xml").returncode == 4


def test_untracked_reports_and_bookkeeping_do_not_dirty_the_release(release: GateProject
                                                                    ) -> None:
    (release.root / "reports" / "extra.txt").write_text("CI output\n")
    release.edit_state("project.note", "edited")
    (release.root / ".deploygate" / "attestations.jsonl").open("a").write("\n")
    assert gate(release, "--gate-stage=pre").ret == 0
    assert release.record("GATE-12-pre").properties["deploygate.dirty"] == "false"


def test_outside_git_there_is_no_release(release: GateProject) -> None:
    shutil.rmtree(release.root / ".git")
    result = gate(release)
    record = release.record()
    assert record.properties["deploygate.commit"] == "unknown"
    assert "is not in a git repository" in record.properties["deploygate.release_problem"]
    for item in ("version-tagged", "smoke-tests-passing"):
        assert record.case(item)["type"] == "evidence-missing", item
    assert record.case("security-sign-off")["type"] == "evidence-missing"  # no git: no signer
    assert record.case("all-tests-passing")["outcome"] == "passed"  # the rest as usual
    assert result.ret == 1
    done = verdict(release, "gate-records/GATE-12.xml")
    assert done.returncode == 4
    assert "there is no release to bind it to" in done.stderr


# -- self-approval over the whole release ------------------------------------------------------

def test_self_approval_counts_every_author_since_the_previous_release(release: GateProject
                                                                      ) -> None:
    from pytest_deploygate.evidence.release import release_authors, release_identity

    root = release.root
    identity = release_identity(root, record_dir=None, version="1.4.0")
    assert release_authors(root, identity, record_dir=None) == {JO, RAVI}
    first = git(release, "rev-list", "--max-parents=0", "HEAD")
    git(release, "tag", "v1.3.0", first, who=MARIA)
    assert release_authors(root, identity, record_dir=None) == {RAVI}

    git(release, "tag", "-d", "v1.3.0")
    config = root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "conditions:", "attestations:\n  forbid_self_approval: true\n\nconditions:"))
    git(release, "commit", "-q", "-am", "forbid self-approval", who=RAVI)
    approvers = root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text() + "  - email: jo.dev@acme.example\n"
                                                 "    roles: [qa-lead]\n")
    release.drop_attestation("no-critical-high-defects")
    release.attest(gate=12, criterion="no-critical-high-defects", signer=JO, role="qa-lead",
                   at="2026-02-03T10:12:00Z")
    git(release, "commit", "-q", "-am", "jo signs", who=JO)
    gate(release, "--gate-stage=pre")
    # Jo authored the first commit, not the newest: still an author of this release.
    message = release.record("GATE-12-pre").case("no-critical-high-defects")["message"]
    assert "self-approval is forbidden" in message


# -- node ids, config errors -------------------------------------------------------------------

def test_node_ids_are_the_same_in_every_stage(release: GateProject) -> None:
    signed_after_deploy(release)
    for stage in ("pre", "post", "all"):
        result = release.pytester.runpytest(*INNER_ARGS, "--gate=12", f"--gate-stage={stage}",
                                            "--collect-only", "-q")
        ids = [line for line in result.stdout.lines if line.startswith("GATE-")]
        assert ids and all(line.startswith("GATE-12::") for line in ids), ids[:3]
    result = gate(release, "--gate-stage=post", "--deselect", "GATE-12::hypercare-period")
    post = release.record("GATE-12-post")
    assert post.decision == "INCOMPLETE"
    assert post.case("team-available")["type"] == "not-run"
    result = gate(release, "--gate-stage=pre", "-k", "security")
    assert release.record("GATE-12-pre").case("security-sign-off")["outcome"] == "passed"
    assert release.record("GATE-12-pre").decision == "INCOMPLETE"


def test_a_broken_config_stops_the_run_and_removes_the_record(release: GateProject) -> None:
    # (An earlier PASS outlived the stopped run: harmless where the config is release
    # content, not where it is not, as another project's of a monorepo: test_attack_rt13b.)
    assert gate(release, "--gate-stage=pre").ret == 0
    record = release.root / "gate-records" / "GATE-12-pre.xml"
    assert record.is_file()
    config = release.root / "deploygate.yaml"
    config.write_text(config.read_text().replace("tier: enterprise",
                                                 "tier: enterprise\nthreshold:\n  p99_ms: 1"))
    line = config.read_text().splitlines().index("threshold:") + 1
    expected = f"deploygate.yaml:{line}: threshold: unknown key 'threshold'"
    result = release.pytester.runpytest_subprocess(*INNER_ARGS, "--gate=12", "--gate-stage=pre")
    assert result.ret == 2
    output = result.stdout.str() + result.stderr.str()
    assert expected in output
    assert "Traceback" not in output
    assert not record.exists()
    for args in ((), ("deploygate.yaml",)):
        done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "validate", *args],
                              cwd=release.root, capture_output=True, text=True, check=False)
        assert done.returncode == 1, done.stderr
        assert expected in done.stderr


def test_a_shallow_clone_cut_at_the_release_commit_has_no_release(
        release: GateProject, tmp_path: Path) -> None:
    # Which commit made the release cannot be told when history stops at it: the gate says
    # so in its record instead of naming a commit.
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{release.root}", str(clone)],
                   check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"],
                          cwd=clone, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    record = (clone / "gate-records" / "GATE-12.xml").read_text()
    assert "shallow clone cut off at the newest release-content commit" in record
    assert '<property name="deploygate.commit" value="unknown" />' in record
