"""Red team on waivers, sign-offs, write-back and the stage binding (attack-waive): each test
is an attack by a developer of the gated project who is not (or not only) an approver."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_signing_attacks import make_monorepo
from test_signoffs_and_cli import (  # noqa: F401  (verified: a fixture)
    PEOPLE,
    commit_as,
    run_cli,
    verified,
    waive_now,
)

from conftest import GateProject, today_state, write_config


def _today_spec(project: GateProject, key: str, sections: str) -> None:
    """A user spec of phase ``key`` (today's layout) with the given sections (YAML)."""
    specs = project.root / "gate_specs"
    specs.mkdir(exist_ok=True)
    (specs / f"{key}.yaml").write_text(
        f"spec_version: 1\ngate: {int(key[:2])}\nid: {key}\ntitle: {key}\nphase: {key}\n"
        f"decision: [{{id: ok, title: OK}}]\nsections:\n{sections}")


def test_post_stage_does_not_bind_to_another_projects_pre_record(example: GateProject
                                                                  ) -> None:
    # svc-b's pre stage fails (its implementation gate did not pass), svc-a's
    # does; the post stage of svc-b pointed at svc-a's PASS pre record must not pass: same
    # gate, commit, tree, version and spec, but another project's decision.
    make_monorepo(example, ("svc-a", "svc-b"))
    example.git_init()
    state_b = example.root / ".isdlc" / "projects" / "svc-b" / "state.json"
    data = json.loads(state_b.read_text())
    data["phases"]["05-implementation"].update(gate_passed=False, status="in_progress")
    state_b.write_text(json.dumps(data))
    example.git("add", "-A")
    example.git("commit", "-q", "-m", "svc-b: implementation gate not passed")
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-project=svc-a").ret == 0
    example.run("--gate=12", "--gate-stage=pre", "--gate-project=svc-b")
    assert example.record("svc-b/GATE-12-pre").decision == "FAIL"
    result = example.run("--gate=12", "--gate-stage=post", "--gate-project=svc-b",
                         "--gate-pre-record=gate-records/svc-a/GATE-12-pre.xml",
                         "--gate-update-state")
    record = example.record("svc-b/GATE-12-post")
    case = record.case("pre-stage-record")
    assert result.ret == 1, case
    assert "does not bind" in case["message"]
    assert "it is a record of project 'svc-a', not 'svc-b'" in case["message"]
    assert json.loads(state_b.read_text())["phases"]["12-production"]["gate_passed"] is False


# -- write-back: only a PASS of the whole gate (or of its post stage) is written as passed --------

def test_pre_stage_pass_is_never_written_back_as_a_passed_gate(example: GateProject,
                                                               fixed_clock: object) -> None:
    # The pre stage alone is not the gate: the deploy and the post stage are still to come.
    # A pipeline that stops after the pre stage must not leave the framework's status word
    # "passed" in state.json's gate_validation or in docs/.validations.
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-update-state",
                       "--gate-validation-record").ret == 0
    block = example.state()["phases"]["12-production"]["gate_validation"]
    assert (block["decision"], block["stage"]) == ("PASS", "pre")
    assert block["status"] == "blocked"
    validation = json.loads((example.root / "docs" / ".validations" /
                             "gate-12-production.json").read_text())
    assert (validation["status"], validation["stage"]) == ("blocked", "pre")


def test_failing_pre_stage_withdraws_an_earlier_gate_passed(example: GateProject,
                                                            fixed_clock: object) -> None:
    # The last release's gate_passed: true must not survive a pre stage that fails for this one.
    example.edit_state("phases.12-production.gate_passed", True)
    example.drop_attestation("security-sign-off")
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-update-state").ret == 1
    phase = example.state()["phases"]["12-production"]
    assert phase["gate_validation"]["status"] == "fail"
    assert phase["gate_passed"] is False


def test_today_pre_stage_pass_is_blocked_for_the_framework(project: GateProject,
                                                           template_state: dict) -> None:
    state = today_state(template_state, "06-implementation")
    state["phases"]["06-implementation"] = {"status": "in_progress", "gate_passed": True}
    project.set_state(state)
    _today_spec(project, "06-implementation",
                "- id: before\n  title: Before\n  stage: pre\n  decision: ok\n  criteria:\n"
                "  - {id: ready, text: Ready, check: {kind: state, path: project.name}}\n"
                "- id: after\n  title: After\n  stage: post\n  decision: ok\n  criteria:\n"
                "  - {id: live, text: Live, check: {kind: state, path: no.such.key}}\n")
    assert project.run("--gate=06-implementation", "--gate-stage=pre", "--gate-update-state",
                       "--gate-validation-record").ret == 0
    phase = project.state()["phases"]["06-implementation"]
    assert (phase["deploygate"]["decision"], phase["deploygate"]["status"]) == ("PASS",
                                                                               "blocked")
    assert phase["gate_passed"] is None  # the earlier pass withdrawn: not passed yet
    record = json.loads((project.root / "docs" / ".validations" /
                         "gate-06-implementation.json").read_text())
    assert record["status"] == "blocked"
    # A failing pre stage withdraws the phase's earlier pass.
    spec = project.root / "gate_specs" / "06-implementation.yaml"
    spec.write_text(spec.read_text().replace("path: project.name", "path: no.such.key"))
    assert project.run("--gate=06-implementation", "--gate-stage=pre",
                       "--gate-update-state").ret == 1
    assert project.state()["phases"]["06-implementation"]["gate_passed"] is False


# -- waivers: the approver of a waiver is held to the sign-off rules ----------------------------

@pytest.mark.parametrize("maria_wrote_code", [True, False])
def test_release_author_cannot_waive_what_they_may_not_sign(verified: GateProject,  # noqa: F811
                                                            maria_wrote_code: bool) -> None:
    # forbid_self_approval keeps maria, who wrote part of this release, from signing it off;
    # a waiver is an approval too (of the criterion's failure), so her waiver must not count.
    # (The example's sign-offs were committed by dev@, so authorship is not verified here:
    # the waiver's approver is git's author of its line whatever that setting says.)
    config = verified.root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "verify_authorship: true", "verify_authorship: false\n  forbid_self_approval: true")
        + "waivers:\n  enabled: true\n  approver_roles: [release-manager]\n")
    commit_as(verified, "dev", "forbid self-approval, enable waivers")
    verified.attest(gate=12, criterion="security-sign-off", signer=PEOPLE["sam"],
                    role="security-officer", at="2026-02-03T12:00:00Z")
    verified.drop_attestation("runbooks-ready")
    commit_as(verified, "dev", "security signed, runbooks not ready")
    if maria_wrote_code:
        (verified.root / "hotfix.txt").write_text("maria's change to the release\n")
        commit_as(verified, "maria", "hotfix by the release manager")
    waive_now(verified, "runbooks-ready", run=False)
    result = verified.run("--gate=12")
    case = verified.record().case("runbooks-ready")
    if not maria_wrote_code:  # the same waiver by a release manager who wrote none of it
        assert result.ret == 0, case
        assert case["type"] == "waived"
        return
    assert case["type"] == "evidence-missing", case
    assert ("waiver at .deploygate/waivers.jsonl:1 ignored: its approver "
            "maria.lopez@acme.example authored the release being gated (self-approval is "
            "forbidden)") in case["message"]


# -- sign-offs: the phase start bounds them on today's layout too --------------------------------

LAST_RELEASE = "2026-04-01T09:00:00Z"
PHASE_STARTED = "2026-05-10T09:00:00Z"
THIS_RELEASE = "2026-05-20T09:00:00Z"
CHEN = "chen.wei@acme.example"


def _commit(root: Path, message: str, email: str, date: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": email.split("@")[0], "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": email.split("@")[0], "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    for command in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *command], cwd=root, check=True, env=env, capture_output=True)


@pytest.mark.parametrize("recorded", [
    {"timing": {"started_at": PHASE_STARTED, "retries": 0}},  # the orchestrator (REQ-0022)
    {"started_at": PHASE_STARTED},  # the framework's phase loop
    {"started": PHASE_STARTED},  # the 13-phase layout's field
    {"alias": {"timing": {"started_at": PHASE_STARTED}}},  # a workflow that lists 14-production
    # Key and alias disagree (the last release's start left under one): the later start wins.
    {"started_at": LAST_RELEASE, "alias": {"timing": {"started_at": PHASE_STARTED}}},
])
@pytest.mark.parametrize("signed_on", [LAST_RELEASE, THIS_RELEASE])
def test_last_releases_sign_off_does_not_count_on_todays_layout(
        project: GateProject, template_state: dict, recorded: dict, signed_on: str) -> None:
    # Today's framework records a phase's start as timing.started_at (or started_at), not as
    # the older layout's `started`, under the key its workflow lists (an alias too): a sign-off
    # committed for the last release must still not count for this one.
    state = today_state(template_state, "13-production")
    own = {k: v for k, v in recorded.items() if k != "alias"}
    if "alias" in recorded:
        state["phases"]["14-production"] = {"status": "in_progress", **recorded["alias"]}
    if own:
        state["phases"]["13-production"] = {"status": "in_progress", **own}
    project.set_state(state)
    _today_spec(project, "13-production",
                "- id: s\n  title: S\n  stage: pre\n  criteria:\n  - {id: deployed, text: "
                "Deployed, check: {kind: attestation, roles: [sre]}}\n")
    (project.root / ".deploygate").mkdir()
    (project.root / ".deploygate" / "approvers.yaml").write_text(
        f"approvers:\n  - email: {CHEN}\n    roles: [sre]\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project.root, check=True)
    _commit(project.root, "release 2.0.0", "dev@acme.example", LAST_RELEASE)
    (project.root / ".deploygate" / "attestations.jsonl").write_text(json.dumps(
        {"gate": "13-production", "criterion": "deployed", "signer": CHEN, "role": "sre",
         "at": signed_on}) + "\n")
    _commit(project.root, "chen signs off", CHEN, signed_on)
    project.run("--gate=13-production", "--gate-now=2026-06-01T12:00:00Z")
    case = project.record("13-production").case("deployed")
    if signed_on == THIS_RELEASE:
        assert case["outcome"] == "passed", case
        return
    assert case["type"] == "evidence-missing", case
    assert ("before phase 13-production started (2026-05-10T09:00:00Z)"
            in case["message"]), case["message"]


# -- the command line does not loosen the reviewed gate ------------------------------------------

def test_command_line_threshold_override_is_not_a_deployable_pass(example: GateProject) -> None:
    # The reviewed deploygate.yaml sets p99_ms to 1 ms, so the captured p99 fires the trigger;
    # `--gate-threshold p99_ms=5000` (on the command line or in PYTEST_ADDOPTS of the CI job)
    # turned that into a PASS that `deploygate verdict` deployed and write-back recorded.
    write_config(example, (example.root / "deploygate.yaml").read_text()
                 + "thresholds:\n  p99_ms: 1\n")
    example.git_init()
    assert example.run("--gate=12").ret != 0
    assert example.record().decision == "ROLLBACK"
    assert example.run("--gate=12", "--gate-threshold=p99_ms=5000").ret == 0
    assert example.record().properties["deploygate.threshold_overrides"] == "p99_ms=5000"
    done = run_cli(example, "verdict", "gate-records/GATE-12.xml")
    assert done.returncode == 4, done.stdout + done.stderr
    assert ("thresholds overridden on the command line (--gate-threshold p99_ms=5000)"
            in done.stderr), done.stderr
    before = example.state_path.read_bytes()
    refused = example.run_subprocess("--gate=12", "--gate-threshold=p99_ms=5000",
                                     "--gate-update-state")
    assert refused.ret == 4
    refused.stderr.fnmatch_lines(["*--gate-threshold*cannot be used with --gate-update-state*"])
    assert example.state_path.read_bytes() == before
    # Tightening is never a gain: a ROLLBACK under an override stays a trusted ROLLBACK.
    write_config(example, (example.root / "deploygate.yaml").read_text().replace(
        "p99_ms: 1\n", "p99_ms: 5000\n"))
    example.git("commit", "-qam", "loosen p99 by review")
    assert example.run("--gate=12", "--gate-threshold=p99_ms=1").ret != 0
    assert run_cli(example, "verdict", "gate-records/GATE-12.xml").returncode == 2
