"""Red team of last session's evidence fixes (committed evidence, stated run times, version
names, record bookkeeping, report spellings): evidence a real tool writes, or a release's
author commits, that made a criterion pass when it should not."""

from __future__ import annotations

import os

import pytest
from test_attack_evidence import _JUNIT_PASS, _commit_all, _judged

from conftest import GateProject, custom_gate

# -- committed evidence seen through a link ----------------------------------------------------

@pytest.mark.parametrize("link", ["folder", "file"])
def test_a_committed_report_read_through_a_link_is_committed_release_content(
        project: GateProject, link: str) -> None:
    # The old report is committed in old-run/. reports/ is a committed link to that folder,
    # or reports/unit.xml a link to the file made after the checkout. git tracks the file
    # under old-run/ only, so the report read as reports/unit.xml looked untracked, and its
    # checkout time "after the release commit".
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("version: 1.4.0\n")
    (project.root / "old-run").mkdir()
    (project.root / "old-run" / "unit.xml").write_text(_JUNIT_PASS)
    if link == "folder":
        os.symlink("old-run", project.root / "reports")
    custom_gate(project, "- {id: fresh, text: Fresh, check: {kind: junit, "
                         "paths: [reports/*.xml], not_before: commit}}")
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    if link == "file":
        (project.root / "reports").mkdir()
        os.symlink("../old-run/unit.xml", project.root / "reports" / "unit.xml")
    case = _judged(project, "fresh")
    assert case["outcome"] in ("failure", "error"), case
    assert "reports/unit.xml is committed release content" in case["message"], case
