"""Red team of last session's evidence fixes (committed evidence, stated run times, version
names, record bookkeeping, report spellings): evidence a real tool writes, or a release's
author commits, that made a criterion pass when it should not."""

from __future__ import annotations

import os

import pytest
from test_attack_evidence import _JUNIT_PASS, _commit_all, _judged, _notes

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


# -- the version named: another release's spelling is not this one -----------------------------

@pytest.mark.parametrize("text", [
    # PEP 440 writes pre-releases without a separator: the notes of 1.4.0's first candidate.
    "# acme-api 1.4.0rc1 release notes\n\nRefunds.\n",
    "# acme-api 1.4.0b2\n\nRefunds.\n",
    # Debian's pre-release (sorts before 1.4.0), and an underscore suffix.
    "acme-api (1.4.0~rc1) unstable; urgency=medium\n\n  * Refunds.\n",
    "# acme-api 1.4.0_beta\n\nRefunds.\n",
    # GitHub's generated notes of the next release: 1.4.0 only as the base of the comparison.
    "## What's Changed\n* Refunds\n\n**Full Changelog**: "
    "https://github.com/acme/api/compare/v1.4.0...v1.4.1\n",
    # The version as another version's build metadata.
    "# acme-api 0.9.0+1.4.0\n\nRefunds.\n",
], ids=["pep440-rc", "pep440-beta", "debian-tilde", "underscore", "compare-base",
        "build-metadata-of-another"])
def test_release_notes_naming_another_releases_spelling_do_not_name_the_version(
        project: GateProject, text: str) -> None:
    case = _notes(project, text)
    assert case["outcome"] == "failure", case
    assert "does not name version 1.4.0" in case["message"], case


@pytest.mark.parametrize("text", [
    "**Full Changelog**: https://github.com/acme/api/compare/v1.3.0...v1.4.0\n",
    "# acme-api 1.4.0 release notes\n",
    "Released 1.4.0.\n",
    "Version 1.4.0: refunds (see 1.4.0's notes)\n",
], ids=["compare-target", "heading", "sentence-end", "possessive"])
def test_release_notes_naming_the_version_whole_are_met(project: GateProject, text: str
                                                       ) -> None:
    # (Held by the fix: the ways notes name their own release.)
    case = _notes(project, text)
    assert case["outcome"] == "passed", case
