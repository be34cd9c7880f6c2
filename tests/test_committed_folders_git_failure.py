"""The project folders the repository commits are read from git: when git cannot list them
(an object of HEAD's tree missing or corrupt), the gate run is refused, never run as if
the repository committed no project folder at all.

``committed_project_folders`` returned {} when ``git ls-tree -r HEAD`` failed: with one tree
object under ``.isdlc/`` (bookkeeping, outside the release content) removed, nothing knew that
services/b/ was svc-b's, so svc-a's state (svc-b's deleted) could name services/b and svc-a
was judged by svc-b's QA sign-off (rt15a #1, reopened through a git failure).

Real repositories, ``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict`` in
subprocesses, as tests/test_monorepo_project_folder_owner.py builds them.
"""

from __future__ import annotations

from pathlib import Path

from test_monorepo_definition_names_links_folders import services
from test_monorepo_project_folder_owner import _state
from test_monorepo_release_content import EVE, commit, gate, git, prop, verdict

__all__ = ["services"]  # (the fixture, imported to be used here)


def _remove_tree_object(root: Path, folder: str) -> None:
    """Delete the loose object of HEAD's tree ``folder`` (as a damaged or hand-edited
    repository lacks it)."""
    tree = git(root, "rev-parse", f"HEAD:{folder}").strip()
    objects = Path(git(root, "rev-parse", "--git-path", "objects").strip())
    objects = objects if objects.is_absolute() else root / objects
    (objects / tree[:2] / tree[2:]).unlink()


def test_a_missing_tree_object_is_a_refusal_not_a_repository_without_projects(
        services: Path) -> None:
    git(services, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(services, "svc-a", "services/b")
    (services / ".isdlc" / "notes").mkdir()
    (services / ".isdlc" / "notes" / "todo.txt").write_text("nothing\n")
    commit(services, EVE, "bookkeeping")
    _remove_tree_object(services, ".isdlc/notes")
    line = "git could not list the files HEAD commits"
    result = gate(services, "svc-a")
    # Before: no committed project folder known, svc-a judged in services/b by its sign-offs.
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout + result.stderr, result.stdout[-3000:]
    assert prop(services, "svc-a", "decision") != "PASS"
    refused = verdict(services, "svc-a")
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr

