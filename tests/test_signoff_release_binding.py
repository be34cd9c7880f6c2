# ruff: noqa: F811  (the fixture comes from test_signoff_identity)
"""A sign-off approves the release content its commit holds, not whatever comes later.

The release is the unit (release-identity.md): a content change after the approvals is a new
release, so "approvals obtained" must be signed again, as a tag on other content or a pre
record of another release is refused. Bookkeeping commits (more sign-offs) change nothing.
Real git repositories, every sign-off committed by its signer (tests/test_signoff_identity.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from test_signoff_identity import (  # noqa: F401  (signed: the fixture, a real signed repo)
    DEV,
    LOG,
    append,
    cli,
    commit,
    git,
    line,
    set_config,
    signed,
)

from conftest import GateProject

CRITERION = "security-sign-off"


def signer_of(project: GateProject, criterion: str) -> dict[str, object]:
    entries = [json.loads(t) for t in (project.root / LOG).read_text().splitlines()]
    return next(e for e in entries if e["criterion"] == criterion)


def change_content(root: Path, relative: str = "src/feature.py") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("def late_change():\n    return 'not reviewed'\n")
    commit(root, DEV, "a change after the approvals")


def test_a_content_change_after_the_sign_offs_needs_them_again(signed: GateProject) -> None:
    change_content(signed.root)
    result = signed.run("--gate=12")
    assert result.ret == 1
    record = signed.record()
    assert record.decision == "FAIL"
    case = record.case(CRITERION)
    assert case["type"] == "evidence-missing"
    assert "made on other release content" in case["message"]
    assert "sign off again on this release" in case["message"]
    assert cli(signed.root, "verdict", "gate-records/GATE-12.xml").returncode == 1

    # The signer signs again on this release (a new line: a repeated one is ignored).
    entry = {**signer_of(signed, CRITERION), "note": "reviewed the late change"}
    append(signed.root, LOG, line(**entry))
    commit(signed.root, str(entry["signer"]), "security sign-off of the new content")
    signed.run("--gate=12")
    assert signed.record().outcomes()[CRITERION] == "passed"


def test_a_sign_off_made_on_a_branch_of_older_content_does_not_count(
        signed: GateProject) -> None:
    root = signed.root
    entry = signer_of(signed, CRITERION)
    # The security officer signs on a branch cut before the last content change...
    lines = [t for t in (root / LOG).read_text().splitlines()
             if json.loads(t)["criterion"] != CRITERION]
    (root / LOG).write_text("".join(t + "\n" for t in lines))
    commit(root, DEV, "drop the security sign-off")
    git(root, "branch", "old-content")
    change_content(root)
    git(root, "checkout", "-q", "old-content")
    append(root, LOG, line(**entry))
    commit(root, str(entry["signer"]), "security sign-off")
    git(root, "checkout", "-q", "main")
    # ... and the branch is merged: the line's commit holds the older content.
    git(root, "merge", "-q", "--no-edit", "old-content", email=DEV)
    signed.run("--gate=12")
    case = signed.record().case(CRITERION)
    assert case["type"] == "evidence-missing"
    assert "made on other release content" in case["message"]


def test_bookkeeping_commits_keep_the_sign_offs(signed: GateProject) -> None:
    """More sign-offs, waivers or state after the approvals are not content."""
    root = signed.root
    state = root / ".isdlc" / "state.json"
    state.write_text(state.read_text())  # (unchanged bytes: commit something under .isdlc)
    (root / ".isdlc" / "notes.md").write_text("hypercare notes\n")
    commit(root, DEV, "bookkeeping only")
    assert signed.run("--gate=12").ret == 0
    assert signed.record().decision == "PASS"


def test_binding_can_be_turned_off_and_the_record_shows_it(signed: GateProject) -> None:
    set_config(signed, "verify_authorship: true",
               "verify_authorship: true\n  bind_to_release: false")
    commit(signed.root, DEV, "sign-offs are not bound to the release")
    result = signed.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    assert "release=not-bound" in signed.record().case(CRITERION)["text"]
