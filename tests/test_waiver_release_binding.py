# ruff: noqa: F811  (the fixture comes from test_signoff_identity)
"""A waiver approves a criterion's failure for the release content its commit holds.

As a sign-off does (tests/test_signoff_release_binding.py): a content change after the
waiver is a new release, whose failures are approved again or fixed; bookkeeping commits
(sign-offs, more waivers, .isdlc/) change nothing. Real git repositories, several authors:
dev@ commits the release, maria@ (a release manager) approves the waivers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from test_signoff_identity import (  # noqa: F401  (signed: the fixture, a real signed repo)
    DEV,
    WAIVERS,
    commit,
    drop,
    enable_waivers,
    git,
    iso,
    set_config,
    signed,
    waive_runbooks,
)
from test_signoff_release_binding import change_content

from conftest import GateProject

CRITERION = "runbooks-ready"
MARIA = "maria.lopez@acme.example"


def waived(project: GateProject, justification: str = "runbook review after launch",
           days: int = 20) -> None:
    """maria@ approves a waiver of the criterion for ``days`` (committed by her)."""
    waive_runbooks(project.root, justification=justification,
                   expires=iso(datetime.now(UTC) + timedelta(days=days)))
    commit(project.root, MARIA, "waive the runbooks")


def runbooks(project: GateProject) -> dict:
    project.run("--gate=12")
    return project.record().case(CRITERION)


def waivable_project(project: GateProject) -> GateProject:
    enable_waivers(project)
    drop(project, CRITERION)
    return project


def test_a_content_change_after_the_waiver_needs_it_approved_again(signed: GateProject) -> None:
    project = waivable_project(signed)
    # A waiver that expires late, approved on the old content...
    waived(project, days=25)
    assert runbooks(project)["type"] == "waived"
    change_content(project.root)
    result = project.run("--gate=12")
    found = project.record().case(CRITERION)
    assert found["type"] == "evidence-missing", found
    assert "approved for other release content" in found["message"]
    assert "waive again on this release" in found["message"]
    assert project.record().decision == "FAIL"
    assert "approved for other release content" in result.stdout.str()  # (summary's error)

    # ... does not shadow one approved on this release, though it expires earlier.
    waived(project, justification="runbook review of the new content after launch")
    found = runbooks(project)
    assert found["type"] == "waived", found
    assert "of the new content" in found["message"]


def test_a_waiver_committed_on_a_branch_of_older_content_does_not_count(
        signed: GateProject) -> None:
    project = waivable_project(signed)
    root = project.root
    git(root, "branch", "old-content")
    change_content(root)
    git(root, "checkout", "-q", "old-content")
    waived(project)
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-edit", "old-content", email=DEV)
    found = runbooks(project)
    assert found["type"] == "evidence-missing"
    assert "approved for other release content" in found["message"]


def test_bookkeeping_commits_keep_the_waiver(signed: GateProject) -> None:
    project = waivable_project(signed)
    waived(project)
    root = project.root
    (root / ".isdlc" / "notes.md").write_text("hypercare notes\n")
    commit(root, DEV, "bookkeeping only")
    # Another waiver of another criterion is bookkeeping too.
    line = {"gate": 12, "criterion": "deployment-window-confirmed", "run": True,
            "justification": "window confirmed by phone",
            "expires": iso(datetime.now(UTC) + timedelta(days=10))}
    with (root / WAIVERS).open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    commit(root, MARIA, "another waiver")
    found = runbooks(project)
    assert found["type"] == "waived", found
    assert "release=not-bound" not in found.get("text", "")


def test_binding_off_lets_the_waiver_count_and_the_record_says_so(signed: GateProject) -> None:
    project = waivable_project(signed)
    waived(project)
    set_config(project, "verify_authorship: true",
               "verify_authorship: true\n  bind_to_release: false")
    change_content(project.root)
    found = runbooks(project)
    assert found["type"] == "waived", found
    assert "release=not-bound" in found["text"]
    assert f"approver={MARIA}" in found["text"]
