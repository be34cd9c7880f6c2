"""Sign-offs attributed by git, waivers, and the deploygate command, end to end: the real
console script in subprocesses, real git repositories in temp dirs, file contents checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GateProject

# The console script beside this interpreter: the code under test, not another install.
_BESIDE = Path(sys.executable).parent / "deploygate"
DEPLOYGATE = str(_BESIDE) if _BESIDE.is_file() else shutil.which("deploygate") or ""
PEOPLE = {"sam": "sam.okafor@acme.example", "chen": "chen.wei@acme.example",
          "maria": "maria.lopez@acme.example", "dev": "dev@acme.example"}


def run_cli(project: GateProject, *args: str, who: str = "sam") -> subprocess.CompletedProcess:
    assert DEPLOYGATE, "the deploygate console script is installed with the package"
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": PEOPLE[who],
           "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": PEOPLE[who]}
    git(project, "config", "user.email", PEOPLE[who])
    return subprocess.run([DEPLOYGATE, *args], cwd=project.root, capture_output=True, text=True,
                          env=env)


def git(project: GateProject, *args: str, who: str = "dev", date: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": PEOPLE[who],
           "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": PEOPLE[who]}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=project.root, check=True, env=env,
                          capture_output=True, text=True).stdout.strip()


def commit_as(project: GateProject, who: str, message: str, date: str | None = None) -> None:
    git(project, "add", "-A", who=who)
    git(project, "commit", "-q", "-m", message, who=who, date=date)


@pytest.fixture
def verified(example: GateProject) -> GateProject:
    """The example in a git repository of its own, with authorship verified; the release was
    committed by dev@, and the security sign-off is removed so tests can add their own."""
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text().replace("verify_authorship: false",
                                                 "verify_authorship: true"))
    example.drop_attestation("security-sign-off")
    # Its reports and metrics capture are CI output, untracked (a capture committed with the
    # release is no capture of its deploy).
    (example.root / ".gitignore").write_text("reports/\n")
    git(example, "init", "-q", "-b", "main")
    commit_as(example, "dev", "release 1.4.0")
    return example


def log_lines(project: GateProject) -> list[dict]:
    log = project.root / ".deploygate" / "attestations.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def security_case(project: GateProject) -> dict:
    project.run("--gate=12")
    return project.record().case("security-sign-off")


# -- who signed ------------------------------------------------------------------------------------

def test_attest_then_commit_counts(verified: GateProject) -> None:
    done = run_cli(verified, "attest", "12", "security-sign-off", "--role", "security-officer",
                   "--evidence", "https://tickets/SEC-9", "--commit")
    assert done.returncode == 0, done.stderr
    assert "recorded GATE-12 security-sign-off by sam.okafor@acme.example" in done.stdout
    entry = log_lines(verified)[-1]
    assert entry["signer"] == "sam.okafor@acme.example"
    assert entry["role"] == "security-officer" and entry["evidence"] == "https://tickets/SEC-9"
    case = security_case(verified)
    assert case["outcome"] == "passed"
    assert "commit=" in case["text"]


def test_uncommitted_sign_off_does_not_count(verified: GateProject) -> None:
    assert run_cli(verified, "attest", "12", "security-sign-off", "--role",
                   "security-officer").returncode == 0
    case = security_case(verified)
    assert "line is not committed: commit it so git records who added it" in case["message"]


def test_sign_off_committed_by_someone_else(verified: GateProject) -> None:
    assert run_cli(verified, "attest", "12", "security-sign-off", "--role",
                   "security-officer").returncode == 0
    commit_as(verified, "dev", "sign on sam's behalf")
    case = security_case(verified)
    assert case["type"] == "evidence-missing"
    assert "line was added by dev@acme.example in" in case["message"]
    assert "not by the signer" in case["message"]


def test_sign_off_by_a_non_holder_is_refused_and_never_counts(verified: GateProject) -> None:
    done = run_cli(verified, "attest", "12", "security-sign-off", "--role",
                   "security-officer", who="chen")
    assert done.returncode == 2
    assert ("chen.wei@acme.example does not hold role 'security-officer' in "
            ".deploygate/approvers.yaml (holds: sre)") in done.stderr
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["chen"],
                    role="security-officer", at="2026-02-03T12:00:00Z")
    commit_as(verified, "chen", "chen signs anyway")
    assert "does not hold role 'security-officer'" in security_case(verified)["message"]


def test_self_approval_where_forbidden(verified: GateProject) -> None:
    config = verified.root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "verify_authorship: true", "verify_authorship: true\n  forbid_self_approval: true"))
    approvers = verified.root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text() + "  - email: dev@acme.example\n"
                                                 "    roles: [security-officer]\n")
    commit_as(verified, "dev", "dev is also a security officer")
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["dev"],
                    role="security-officer", at="2026-02-03T12:00:00Z")
    commit_as(verified, "dev", "dev approves own release")
    assert "the signer authored the release being gated (self-approval is forbidden)" in (
        security_case(verified)["message"])


def test_expired_and_pre_phase_sign_offs_via_the_record(verified: GateProject) -> None:
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T12:00:00Z",
                    expires="2026-02-04T00:00:00Z")
    commit_as(verified, "sam", "sign")
    # The time that counts is the commit's, not the line's own (which claims the phase).
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T13:00:00Z")
    commit_as(verified, "sam", "sign", date="2026-01-02T12:00:00Z")
    message = security_case(verified)["message"]
    assert "expired at 2026-02-04T00:00:00Z" in message
    assert "before phase 12-production started" in message


def test_required_signature(verified: GateProject, tmp_path: Path) -> None:
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    approvers = verified.root / ".deploygate" / "approvers.yaml"
    public_key = (tmp_path / "key.pub").read_text().strip()
    approvers.write_text(approvers.read_text().replace(
        "    roles: [security-officer]\n",
        f"    roles: [security-officer]\n    ssh_keys: ['{public_key}']\n"))
    config = verified.root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "verify_authorship: true", "verify_authorship: true\n  require_signed_commits: true"))
    git(verified, "config", "gpg.format", "ssh")
    commit_as(verified, "dev", "require signatures")
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T12:00:00Z")
    commit_as(verified, "sam", "unsigned sign-off")
    assert "carries no signature git verifies" in security_case(verified)["message"]
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T13:00:00Z")
    git(verified, "add", "-A", who="sam")
    git(verified, "-c", f"user.signingkey={key}", "commit", "-q", "-S", "-m", "signed",
        who="sam")
    assert security_case(verified)["outcome"] == "passed"


def test_shallow_clone_is_missing_evidence(verified: GateProject, tmp_path: Path) -> None:
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T12:00:00Z")
    commit_as(verified, "sam", "sign")
    (verified.root / "x.txt").write_text("x")
    commit_as(verified, "dev", "more")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{verified.root}", str(clone)],
                   check=True)
    # (The configuration pytest finds here lies outside the clone: named with -c, as the
    # gate requires of a configuration file outside the judged repository.)
    verified.run("--gate=12", f"--gate-root={clone}", "-c", str(verified.root / "pyproject.toml"),
                 f"--gate-record-dir={verified.root / 'gate-records'}")
    message = verified.record().case("security-sign-off")["message"]
    assert "shallow clone" in message and "git fetch --unshallow" in message


def test_reviewer_fills_the_markdown_record(verified: GateProject) -> None:
    done = run_cli(verified, "attest", "12", "gate-review", "--role", "release-manager",
                   "--commit", who="maria")
    assert done.returncode == 0, done.stderr
    verified.run("--gate=12")
    text = (verified.root / "gate-records" / "GATE-12.md").read_text()
    assert "**Reviewer**: maria.lopez@acme.example (release-manager) at " in text


# -- attest refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "said"), [
    (("99", "x", "--role", "sre"), "no spec for gate 99"),
    (("12", "nope", "--role", "sre"), "GATE-12 has no criterion 'nope'"),
    (("12", "gate-10-passed", "--role", "sre"),
     "GATE-12 gate-10-passed is answered by 'gate_passed' evidence, not by a sign-off"),
    (("12", "security-sign-off", "--role", "sre"),
     "does not hold role 'sre'"),
    (("12", "security-sign-off", "--role", "security-officer", "--present"),
     "--present is for rollback triggers"),
    (("12", "security-sign-off", "--role", "security-officer", "--expires", "2030-01-01T00:00"),
     "--expires: '2030-01-01T00:00' has no timezone"),
    (("12", "security-sign-off", "--role", "security-officer", "--expires",
      "2020-01-01T00:00:00Z"), "--expires 2020-01-01T00:00:00Z is not in the future"),
])
def test_attest_refusals_leave_the_log_untouched(verified: GateProject, args: tuple,
                                                 said: str) -> None:
    before = (verified.root / ".deploygate" / "attestations.jsonl").read_bytes()
    done = run_cli(verified, "attest", *args)
    assert done.returncode == 2
    assert said in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert (verified.root / ".deploygate" / "attestations.jsonl").read_bytes() == before


def test_attest_in_a_role_the_criterion_does_not_take(verified: GateProject) -> None:
    log = verified.root / ".deploygate" / "attestations.jsonl"
    before = log.read_bytes()
    done = run_cli(verified, "attest", "12", "security-sign-off", "--role", "release-manager",
                   who="maria")
    assert done.returncode == 2
    assert ("GATE-12 security-sign-off needs a sign-off by security-officer, not "
            "release-manager") in done.stderr
    assert log.read_bytes() == before


def test_attest_signer_not_an_approver(verified: GateProject) -> None:
    done = run_cli(verified, "attest", "12", "security-sign-off", "--role", "security-officer",
                   who="dev")
    assert done.returncode == 2
    assert "dev@acme.example is not in .deploygate/approvers.yaml" in done.stderr


def test_attest_present_fires_the_trigger(verified: GateProject) -> None:
    done = run_cli(verified, "attest", "12", "data-integrity-issue", "--role", "dba",
                   "--present", "--note", "orders lost", "--commit", who="dev")
    assert done.returncode == 2  # dev is not the dba
    approvers = verified.root / ".deploygate" / "approvers.yaml"
    approvers.write_text(approvers.read_text().replace("roles: [dba]", "roles: [dba]\n"
                                                       "  - email: dev@acme.example\n"
                                                       "    roles: [dba]"))
    commit_as(verified, "dev", "dev joins as dba")
    done = run_cli(verified, "attest", "12", "data-integrity-issue", "--role", "dba",
                   "--present", "--note", "orders lost", "--commit", who="dev")
    assert done.returncode == 0, done.stderr
    assert log_lines(verified)[-1]["present"] is True
    verified.run("--gate=12")
    assert verified.record().decision == "ROLLBACK"


def test_attest_never_rewrites_existing_lines(verified: GateProject) -> None:
    log = verified.root / ".deploygate" / "attestations.jsonl"
    log.write_bytes(log.read_bytes().rstrip(b"\n"))  # a last line without its newline
    before = log.read_bytes()
    assert run_cli(verified, "attest", "12", "security-sign-off", "--role",
                   "security-officer").returncode == 0
    after = log.read_bytes()
    assert after.startswith(before + b"\n")
    assert all(json.loads(line) for line in after.splitlines())


# -- waivers -------------------------------------------------------------------------------------

def enable_waivers(project: GateProject) -> None:
    config = project.root / "deploygate.yaml"
    config.write_text(config.read_text() + "waivers:\n  enabled: true\n")
    commit_as(project, "dev", "enable waivers")


def test_waivers_are_off_by_default(verified: GateProject) -> None:
    done = run_cli(verified, "waive", "12", "runbooks-ready", "--justification",
                   "runbook review moved to next sprint", "--expires", "2099-01-01T00:00:00Z",
                   "--run")
    assert done.returncode == 2
    assert "waivers are off for this project" in done.stderr
    assert not (verified.root / ".deploygate" / "waivers.jsonl").exists()


@pytest.mark.parametrize(("args", "said"), [
    (("data-integrity-issue", "--run"), "cannot be waived: it is a rollback trigger"),
    (("gate-11-passed", "--run"), "cannot be waived: it is a prerequisite"),
    (("final-status-compliant", "--run"), "cannot be waived: it is marked waivable: false"),
    (("runbooks-ready",), "one of the arguments --run --no-run is required"),
])
def test_waive_refusals(verified: GateProject, args: tuple, said: str) -> None:
    enable_waivers(verified)
    done = run_cli(verified, "waive", "12", args[0], "--justification",
                   "because the release cannot wait", "--expires", "2099-01-01T00:00:00Z",
                   *args[1:])
    assert done.returncode == 2
    assert said in done.stderr


def test_waive_expiry_rules(verified: GateProject) -> None:
    enable_waivers(verified)
    base = ("waive", "12", "runbooks-ready", "--justification", "runbooks move to wiki", "--run")
    far = run_cli(verified, *base, "--expires", "2999-01-01T00:00:00Z")
    assert far.returncode == 2 and "more than 90 days ahead" in far.stderr
    naive = run_cli(verified, *base, "--expires", "2999-01-01T00:00:00")
    assert naive.returncode == 2 and "has no timezone" in naive.stderr
    short = run_cli(verified, "waive", "12", "runbooks-ready", "--justification", "later",
                    "--expires", "2999-01-01T00:00:00Z", "--run")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr


def waive_now(project: GateProject, criterion: str, run: bool, days: int = 30) -> None:
    from datetime import UTC, datetime, timedelta

    expires = (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run_cli(project, "waive", "12", criterion, "--justification",
                   "runbook review scheduled after launch", "--expires", expires,
                   "--run" if run else "--no-run")
    assert done.returncode == 0, done.stderr
    commit_as(project, "maria", "waive")


def test_waiver_run_false_is_not_evaluated(verified: GateProject) -> None:
    enable_waivers(verified)
    example_signoff(verified)
    verified.drop_attestation("runbooks-ready")
    commit_as(verified, "dev", "runbooks not ready")
    waive_now(verified, "runbooks-ready", run=False)
    result = verified.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    record = verified.record()
    case = record.case("runbooks-ready")
    assert case["type"] == "waived"
    assert case["message"].startswith("WAIVED: runbook review scheduled after launch; approved "
                                      "by maria.lopez@acme.example; expires ")
    assert "(run: false, not evaluated)" in case["message"]
    assert record.properties["deploygate.waivers"] == "1"
    result.stdout.fnmatch_lines(["GATE-12 *: PASS (1 waiver)"])
    markdown = (verified.root / "gate-records" / "GATE-12.md").read_text()
    assert "**Gate Status**: PASS (1 waiver)" in markdown
    assert "- [~] **runbooks-ready**" in markdown


def test_waiver_run_true_reports_the_failure(verified: GateProject) -> None:
    enable_waivers(verified)
    example_signoff(verified)
    verified.drop_attestation("runbooks-ready")
    commit_as(verified, "dev", "runbooks not ready")
    waive_now(verified, "runbooks-ready", run=True, days=3)
    result = verified.run("--gate=12")
    assert result.ret == 0
    case = verified.record().case("runbooks-ready")
    assert case["type"] == "waived"
    assert "(run: true, evaluated: no counting sign-off for 'runbooks-ready'" in case["message"]
    result.stdout.fnmatch_lines(["warning: waiver of runbooks-ready * within 7 days"])
    no_waivers = verified.run("--gate=12", "--gate-no-waivers")
    assert no_waivers.ret == 1
    assert verified.record().case("runbooks-ready")["type"] == "evidence-missing"


def test_expired_waiver_evaluates_normally(verified: GateProject) -> None:
    enable_waivers(verified)
    example_signoff(verified)
    verified.drop_attestation("runbooks-ready")
    commit_as(verified, "dev", "runbooks not ready")
    waive_now(verified, "runbooks-ready", run=False, days=10)
    verified.run("--gate=12", "--gate-now=2099-01-01T00:00:00Z")
    case = verified.record().case("runbooks-ready")
    assert case["type"] == "evidence-missing"
    assert "expired at" in case["message"] and "evaluated normally" in case["message"]


def test_waiver_on_a_trigger_is_rejected_by_validate_and_ignored_by_the_run(
        verified: GateProject) -> None:
    enable_waivers(verified)
    example_signoff(verified)
    waivers = verified.root / ".deploygate" / "waivers.jsonl"
    waivers.write_text(json.dumps({"gate": 12, "criterion": "data-integrity-issue",
                                   "justification": "data team is on holiday",
                                   "expires": "2099-01-01T00:00:00Z", "run": False,
                                   "at": "2098-12-01T00:00:00Z"}) + "\n")
    commit_as(verified, "maria", "waive a trigger")
    done = run_cli(verified, "validate")
    assert done.returncode == 1
    assert ("waivers.jsonl:1: GATE-12 data-integrity-issue cannot be waived (trigger); the "
            "gate run ignores this waiver") in done.stderr
    verified.drop_attestation("data-integrity-issue")
    commit_as(verified, "dev", "no sign-off")
    result = verified.run("--gate=12")
    assert result.ret == 1
    case = verified.record().case("data-integrity-issue")
    assert case["type"] == "evidence-missing"
    assert "waiver at .deploygate/waivers.jsonl:1 ignored: data-integrity-issue is not " \
           "waivable" in case["message"]
    result.stdout.fnmatch_lines(["deploygate: error: GATE-12: waiver at *ignored*"])


def example_signoff(project: GateProject) -> None:
    """Put the security sign-off back, committed by its signer."""
    project.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                   role="security-officer", at="2026-02-03T12:00:00Z")
    config = project.root / "deploygate.yaml"
    # The example's other sign-offs were committed by dev@ above, so authorship is checked on
    # the ones this test adds only: relax verification back to the example's setting.
    config.write_text(config.read_text().replace("verify_authorship: true",
                                                 "verify_authorship: false"))
    commit_as(project, "sam", "security sign-off")


# -- show, validate, verdict -----------------------------------------------------------------------

def test_show_tree(verified: GateProject) -> None:
    done = run_cli(verified, "show", "GATE-12")
    assert done.returncode == 0
    out = done.stdout
    assert out.startswith("GATE-12 Production Deployment (phase 12-production; 68 items;")
    assert "  stage pre\n    Prerequisites\n      gate-10-passed: GATE-10 Passed" in out
    assert "attestation: a sign-off in the attestation log; signed by security-officer; " \
           "waivable" in out
    assert "rollback trigger: passes while the condition is absent" in out
    assert "error-rate-above-threshold: Error rate > 5%\n        metrics_file:" in out
    assert "next: gate 13 Production Operations & Monitoring (site-reliability-engineer)" in out


def test_validate_lists_every_problem_with_file_and_line(verified: GateProject) -> None:
    assert run_cli(verified, "validate").returncode == 0
    log = verified.root / ".deploygate" / "attestations.jsonl"
    first = len(log.read_text().splitlines()) + 1
    log.write_text(log.read_text() + '{"gate": 12, "criterion": "runbooks-ready", "signer": '
                   '"sam.okafor@acme.example", "role": "sre", "at": "2026-02-03T10:00:00"}\n'
                   "not json\n")
    spec_dir = verified.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "07-review.yaml").write_text("spec_version: 1\ngate: 7\n")
    done = run_cli(verified, "validate")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(f"attestations.jsonl:{first}: at: '2026-02-03T10:00:00' has no timezone" in line
               for line in lines)
    assert any(f"attestations.jsonl:{first + 1}: not a JSON object" in line for line in lines)
    assert any("07-review.yaml:1: (top level): 'id' is a required property" in line
               for line in lines)
    done = run_cli(verified, "validate", "deploygate.yaml")
    assert done.returncode == 0 and "1 file(s) checked, 0 problem(s)" in done.stdout


def verdict(project: GateProject, record: str = "gate-records/GATE-12.xml"
            ) -> subprocess.CompletedProcess:
    return run_cli(project, "verdict", record)


@pytest.mark.parametrize(("prepare", "code"), [
    ("pass", 0), ("fail", 1), ("rollback", 2), ("skipped", 3), ("incomplete", 5)])
def test_verdict_exit_codes(verified: GateProject, prepare: str, code: int) -> None:
    example_signoff(verified)
    args = ["--gate=12"]
    if prepare == "fail":
        verified.drop_attestation("runbooks-ready")
    elif prepare == "rollback":
        verified.attest(gate=12, criterion="data-integrity-issue", signer="tom.berg@acme.example",
                        role="dba", at="2026-02-05T10:00:00Z", present=True)
    elif prepare == "skipped":
        verified.edit_state("cloud_configuration.provider", "undecided")
    elif prepare == "incomplete":
        args += ["-k", "security"]
    verified.run(*args)
    done = verdict(verified)
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stdout.startswith("GATE-12 Production Deployment (stage all): ")


def test_verdict_refuses_a_record_edited_to_claim_pass(verified: GateProject) -> None:
    example_signoff(verified)
    verified.drop_attestation("runbooks-ready")
    verified.run("--gate=12")
    path = verified.root / "gate-records" / "GATE-12.xml"
    text = path.read_text().replace('name="deploygate.decision" value="FAIL"',
                                    'name="deploygate.decision" value="PASS"')
    path.write_text(text)
    done = verdict(verified)
    assert done.returncode == 4
    assert "the testcases make the decision FAIL, the record claims PASS" in done.stderr


def test_verdict_refuses_a_record_with_criteria_removed(verified: GateProject) -> None:
    import re

    example_signoff(verified)
    verified.drop_attestation("runbooks-ready")
    verified.run("--gate=12")
    path = verified.root / "gate-records" / "GATE-12.xml"
    text = re.sub(r'<testcase classname="GATE-12.operational-readiness" name="\[GATE-12\]'
                  r'\[runbooks-ready\].*?</testcase>', "", path.read_text(), flags=re.S)
    path.write_text(text)
    done = verdict(verified)
    assert done.returncode == 4
    assert "67 criteria present, 68 expected" in done.stderr
    # Lowering the expected count as well is caught against the installed spec.
    path.write_text(text.replace('value="68"', 'value="67"'))
    done = verdict(verified)
    assert done.returncode == 4
    assert "criteria of GATE-12's spec missing from the record: runbooks-ready" in done.stderr


@pytest.mark.parametrize("content", [
    "<testsuite name='x' tests='1'><testcase name='t'/></testsuite>",
    "not xml",
    "",
])
def test_verdict_on_something_else(verified: GateProject, content: str) -> None:
    (verified.root / "other.xml").write_text(content)
    done = verdict(verified, "other.xml")
    assert done.returncode == 4
    assert "Traceback" not in done.stderr


def test_module_entry_point(verified: GateProject) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--help"],
                          capture_output=True, text=True, cwd=verified.root)
    assert done.returncode == 0
    for command in ("attest", "waive", "show", "validate", "verdict"):
        assert command in done.stdout
        sub = subprocess.run([sys.executable, "-m", "pytest_deploygate", command, "--help"],
                             capture_output=True, text=True, cwd=verified.root)
        assert sub.returncode == 0 and "usage: deploygate" in sub.stdout



def test_waiver_approver_must_hold_a_role_when_configured(verified: GateProject) -> None:
    enable_waivers(verified)
    example_signoff(verified)
    config = verified.root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "waivers:\n  enabled: true\n",
        "waivers:\n  enabled: true\n  approver_roles: [release-manager]\n"))
    verified.drop_attestation("runbooks-ready")
    commit_as(verified, "dev", "runbooks not ready; only release managers approve waivers")
    from datetime import UTC, datetime, timedelta

    expires = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run_cli(verified, "waive", "12", "runbooks-ready", "--justification",
                   "runbook review scheduled after launch", "--expires", expires,
                   "--no-run").returncode == 0
    commit_as(verified, "chen", "the SRE approves it")
    verified.run("--gate=12")
    case = verified.record().case("runbooks-ready")
    assert case["type"] == "evidence-missing"
    assert "its approver chen.wei@acme.example holds none of the roles release-manager" in (
        case["message"])


def test_unusable_files_are_one_line_refusals(verified: GateProject) -> None:
    log = verified.root / ".deploygate" / "attestations.jsonl"
    log.unlink()
    log.mkdir()
    done = run_cli(verified, "attest", "12", "security-sign-off", "--role", "security-officer")
    assert done.returncode == 2
    assert done.stderr.strip() == f"deploygate: {log}: Is a directory"
    missing = subprocess.run([DEPLOYGATE, "--root", str(verified.root / "nope"), "show", "12"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "not a directory" in missing.stderr


def test_a_reader_that_leaves_early_is_no_error(example: GateProject) -> None:
    # `deploygate show 12 | head -1`: the pipe's reader is gone; the command stops quietly
    # with 0 (it said "Broken pipe" and exited 2: BrokenPipeError is an OSError).
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([DEPLOYGATE, "--root", str(example.root), "show", "12"],
                              stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (0, "")
