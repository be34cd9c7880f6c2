"""Where a gated project's files and its deploygate.yaml are: the repository's root for a
single project, a folder of its own for a monorepo project.

Shared by the gate run and ``deploygate verdict``, so both judge a monorepo project in the
same folder under the same config, and bind its record to the same release.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.isdlc.state import StateDoc


def project_dir(root: Path, project_id: str | None, state_path: Path, state: StateDoc
                ) -> Path:
    """Where a monorepo project's files are: state's project.path, else <root>/<id>."""
    if project_id is None:
        return root
    declared = state.get("project.path")
    if isinstance(declared, str) and declared:
        from pytest_deploygate.core.paths import OutsideRoot, inside_root

        try:
            chosen = inside_root(root, declared)
        except OutsideRoot as exc:
            raise StateError(f"{state_path}: project.path {exc}") from None
        _refuse_another_projects_dir(root, project_id, state_path, chosen,
                                     f"project.path {declared!r}")
        return chosen
    candidate = root / project_id
    if not candidate.is_dir():
        return root
    _refuse_another_projects_dir(root, project_id, state_path, candidate,
                                 f"its directory {project_id}/")
    return candidate


def refuse_another_projects_state(root: Path, project_id: str | None, state_path: Path
                                  ) -> None:
    """A committed link (of .isdlc/projects/<id> or of its state.json) to another project's
    state had this project's gate read that state and write its decision back into it."""
    real = state_path.resolve()
    owner = real.parent.name
    if real.name == "state.json" and owner != project_id and \
            real.parent.parent == (root / ".isdlc" / "projects").resolve():
        raise StateError(f"{state_path}: is project {owner}'s state (a link to {real}); "
                         "each project's state must be its own")


def _refuse_another_projects_dir(root: Path, project_id: str, state_path: Path, chosen: Path,
                                 where: str) -> None:
    # A project's files are judged under the config found with them (deploygate.yaml, and the
    # approvers and sign-offs it names). state.json, which the release's author writes, or a
    # committed link must not move one project into another's directory, whose reviewed
    # config (its thresholds, its approvers) would then judge it.
    real = chosen.resolve()
    for other_state in (root / ".isdlc" / "projects").glob("*/state.json"):
        other = other_state.parent.name
        place = (root / other).resolve()
        if other != project_id and (root / other).is_dir() and (real == place
                                                                 or place in real.parents):
            raise StateError(f"{state_path}: {where} leads into project {other}'s "
                             f"directory {other}/; a project's files must be its own (point "
                             "project.path at this project's directory)")


def config_dir(root: Path, project_root: Path) -> Path:
    """Where the project's deploygate.yaml is: the nearest one at or above its root, up to the
    repository root (a folder without one of its own is judged by its project's, never by a
    looser one further up)."""
    real_root = root.resolve()
    for folder in (project_root, *project_root.parents):
        if (folder / "deploygate.yaml").is_file():
            return folder
        if folder.resolve() == real_root:
            break
    return root
