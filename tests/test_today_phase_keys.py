"""Sign-offs, waivers and gate markers name their phase on today's layout (issue 12).

Today's framework numbers two phases 12 (``12-remote-build``, ``12-test-deploy``), two 02 and
three 15. A sign-off, a waiver or a ``@pytest.mark.gate`` that names its gate by such a number
must not count for both phases: they name the phase key, and a number names a gate only where
one phase has it. Everything here goes through ``pytest --gate`` and the ``deploygate`` command
on a project whose state comes from the framework's own installer template, in a real git
repository whose sign-offs are committed by their signers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, GateProject, today_state

CHEN = "chen.wei@acme.example"  # sre
DEV = "dev@acme.example"
SIGNED_ON = "2026-05-20T09:00:00Z"  # before the runs' clock (NOW), after no phase start
LOG = ".deploygate/attestations.jsonl"
WAIVERS = ".deploygate/waivers.jsonl"
SPEC = """\
spec_version: 1
gate: {number}
id: {key}
title: Gate of {key}
phase: {key}
decision: [{{id: ok, title: OK}}]
sections:
- id: s
  title: S
  stage: pre
  criteria:
  - {{id: deployed, text: Deployed, check: {{kind: attestation, roles: [sre]}}}}
  - {{id: smoke-report, text: Smoke report, check: {{kind: state, path: smoke.ok, truthy: true}}}}
"""
KEYS = ("12-remote-build", "12-test-deploy", "13-production")


def git(root: Path, *args: str, email: str = DEV) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": email.split("@")[0], "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": email.split("@")[0], "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": SIGNED_ON, "GIT_COMMITTER_DATE": SIGNED_ON}
    return subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True,
                          text=True).stdout.strip()


def commit_line(root: Path, relative: str, email: str, **entry: Any) -> None:
    """Append one line and commit it as ``email`` (its author is who git says added it)."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    git(root, "add", "-A", email=email)
    git(root, "commit", "-q", "-m", f"{relative}: {entry['gate']}", email=email)


def deploygate(root: Path, *args: str, email: str = CHEN) -> subprocess.CompletedProcess:
    """The deploygate command of this interpreter, as ``email``, committing at SIGNED_ON."""
    git(root, "config", "user.email", email)
    env = {**os.environ, "GIT_AUTHOR_NAME": "chen", "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": "chen", "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": SIGNED_ON, "GIT_COMMITTER_DATE": SIGNED_ON}
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=root,
                          capture_output=True, text=True, env=env)


@pytest.fixture
def twelves(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    """A project of today's layout at 12-test-deploy, with its own specs of the two phases
    numbered 12 and of 13-production, all three asking for the same sign-off ``deployed``."""
    project.set_state(today_state(template_state, "12-test-deploy"))
    specs = project.root / "gate_specs"
    specs.mkdir()
    for key in KEYS:
        (specs / f"{key}.yaml").write_text(SPEC.format(number=int(key[:2]), key=key))
    (project.root / "deploygate.yaml").write_text("waivers:\n  enabled: true\n")
    (project.root / ".deploygate").mkdir()
    (project.root / ".deploygate" / "approvers.yaml").write_text(
        f"approvers:\n  - email: {CHEN}\n    roles: [sre]\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "release 2.0.0")
    return project


def outcomes(project: GateProject, criterion: str) -> dict[str, str]:
    """Run each gate and return the record's outcome of ``criterion`` by phase key."""
    found = {}
    for key in KEYS:
        project.run(f"--gate={key}", NOW)
        case = project.record(key).case(criterion)
        found[key] = case["type"] or case["outcome"]
    return found


def test_attest_writes_the_phase_key_and_counts_for_that_phase_only(twelves: GateProject
                                                                    ) -> None:
    done = deploygate(twelves.root, "attest", "12-test-deploy", "deployed", "--role", "sre",
                      "--commit")
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(t) for t in (twelves.root / LOG).read_text().splitlines()]
    assert line["gate"] == "12-test-deploy"
    # The attack: the sign-off for 12-test-deploy must not count for the other phase 12.
    assert outcomes(twelves, "deployed") == {"12-test-deploy": "passed",
                                             "12-remote-build": "evidence-missing",
                                             "13-production": "evidence-missing"}


@pytest.mark.parametrize("named,counts_for", [
    (12, ()), ("GATE-12", ()),  # ambiguous: counts for no phase
    ("13-test-deploy", ("12-test-deploy",)),  # the framework's alias of 12-test-deploy
    ("12-remote-build", ("12-remote-build",)),
    (13, ("13-production",)), ("GATE-13", ("13-production",)),  # one phase has 13
])
def test_a_logged_sign_off_counts_only_for_the_phase_it_names(
        twelves: GateProject, named: int | str, counts_for: tuple[str, ...]) -> None:
    commit_line(twelves.root, LOG, CHEN, gate=named, criterion="deployed", signer=CHEN,
                role="sre", at=SIGNED_ON)
    assert outcomes(twelves, "deployed") == {
        key: "passed" if key in counts_for else "evidence-missing" for key in KEYS}


@pytest.mark.parametrize("named,counts_for", [
    (12, ()), ("12-test-deploy", ("12-test-deploy",)), (13, ("13-production",))])
def test_a_waiver_counts_only_for_the_phase_it_names(twelves: GateProject, named: int | str,
                                                     counts_for: tuple[str, ...]) -> None:
    commit_line(twelves.root, WAIVERS, CHEN, gate=named, criterion="smoke-report", run=False,
                justification="smoke runner is being replaced this week",
                expires="2026-06-10T00:00:00Z")
    assert outcomes(twelves, "smoke-report") == {
        key: "waived" if key in counts_for else "evidence-missing" for key in KEYS}


@pytest.mark.parametrize("command", [
    ("attest", "12", "deployed", "--role", "sre"),
    ("attest", "GATE-12", "deployed", "--role", "sre"),
    ("waive", "12", "smoke-report", "--no-run", "--justification", "smoke runner replaced",
     "--expires", "2099-01-01T00:00:00Z"),
])
def test_cli_refuses_an_ambiguous_number_listing_the_keys(twelves: GateProject,
                                                          command: tuple[str, ...]) -> None:
    done = deploygate(twelves.root, *command)
    assert done.returncode == 2
    assert "ambiguous in the 21-phase layout: 12-remote-build, 12-test-deploy" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert not (twelves.root / LOG).exists() and not (twelves.root / WAIVERS).exists()


def test_waive_and_attest_by_unambiguous_number_write_the_key(twelves: GateProject) -> None:
    assert deploygate(twelves.root, "attest", "13", "deployed", "--role", "sre").returncode == 0
    assert json.loads((twelves.root / LOG).read_text())["gate"] == "13-production"
    expires = "2099-01-01T00:00:00Z"  # refused as too far ahead: the waiver is not written
    assert deploygate(twelves.root, "waive", "14-production", "smoke-report", "--no-run",
                      "--justification", "smoke runner replaced", "--expires",
                      expires).returncode == 2
    soon = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = deploygate(twelves.root, "waive", "14-production", "smoke-report", "--no-run",
                      "--justification", "smoke runner replaced", "--expires", soon)
    assert done.returncode == 0, done.stderr
    assert json.loads((twelves.root / WAIVERS).read_text())["gate"] == "13-production"


def test_validate_accepts_keys_and_reports_an_ambiguous_number(twelves: GateProject) -> None:
    for named in ("12-test-deploy", 13, 12):
        commit_line(twelves.root, LOG, CHEN, gate=named, criterion="deployed", signer=CHEN,
                    role="sre", at=SIGNED_ON)
    done = deploygate(twelves.root, "validate")
    assert done.returncode == 1
    problems = [t for t in (done.stdout + done.stderr).splitlines() if "attestations" in t]
    assert len(problems) == 1, done.stdout + done.stderr
    assert f"{LOG}:3" in problems[0] and "12-remote-build, 12-test-deploy" in problems[0]


def test_older_layout_attest_still_writes_the_number(example: GateProject) -> None:
    git(example.root, "init", "-q", "-b", "main")
    before = (example.root / LOG).read_text()
    done = deploygate(example.root, "attest", "12-production", "alerting-configured", "--role",
                      "sre")
    assert done.returncode == 0, done.stderr
    added = json.loads((example.root / LOG).read_text()[len(before):])
    assert added["gate"] == 12


USER_TESTS = '''
import pytest

@pytest.mark.gate("12-test-deploy", section="s", id="by-key")
def test_by_key(gate_spec):
    assert gate_spec.phase == "12-test-deploy"

@pytest.mark.gate("13-test-deploy", section="s", id="by-alias")
def test_by_alias(gate_spec):
    assert gate_spec.phase == "12-test-deploy"

@pytest.mark.gate(13, section="s", id="by-number")
def test_by_number(gate_spec):
    assert gate_spec.phase == "13-production"
'''


def test_gate_marker_accepts_the_phase_key(twelves: GateProject) -> None:
    twelves.pytester.makepyfile(test_user=USER_TESTS)
    result = twelves.run("--gate=12-remote-build,12-test-deploy,13-production", NOW)
    result.assert_outcomes(passed=3, failed=3 * 2)  # the users' tests; no spec item is met
    assert {c["name"].split("]")[1][1:] for c in twelves.record("12-test-deploy").cases
            if c["outcome"] == "passed"} >= {"by-key", "by-alias"}
    names = [c["name"] for c in twelves.record("12-remote-build").cases]
    assert not any("by-" in name for name in names)
    assert any("[by-number]" in c["name"] for c in twelves.record("13-production").cases)


@pytest.mark.parametrize("named", ["12", "GATE-12"])
def test_gate_marker_with_an_ambiguous_number_is_a_collection_error(twelves: GateProject,
                                                                    named: str) -> None:
    twelves.pytester.makepyfile(test_user=f'''
import pytest

@pytest.mark.gate({named!r})
def test_ambiguous():
    raise AssertionError("must not run")
''')
    result = twelves.run("--gate=12-test-deploy", NOW)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        f"*@pytest.mark.gate({named!r}): {named!r} is ambiguous in the 21-phase layout: "
        "12-remote-build, 12-test-deploy; name the phase*", "*1 error*"])
    assert "must not run" not in result.stdout.str()
