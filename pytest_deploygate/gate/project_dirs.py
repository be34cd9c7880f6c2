"""Where a gated project's files and its deploygate.yaml are: the repository's root for a
single project, a folder of its own for a monorepo project.

Shared by the gate run and ``deploygate verdict``, so both judge a monorepo project in the
same folder under the same config, and bind its record to the same release.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.isdlc.state import StateDoc


def project_dir(root: Path, project_id: str | None, state_path: Path, state: StateDoc,
                max_state_bytes: int = DEFAULT_EVIDENCE_BYTES,
                declared: DeclaredPaths | None = None) -> Path:
    """Where a monorepo project's files are: state's project.path, else <root>/<id>.

    ``max_state_bytes``: the size limit the other projects' states are read with (to know
    where their folders are). ``declared``: the run's record of the other states'
    project.path, so that gating every project reads each other state once."""
    declared = DeclaredPaths() if declared is None else declared
    if project_id is None:
        return root
    declared_path = state.get("project.path")
    if isinstance(declared_path, str) and declared_path:
        from pytest_deploygate.core.paths import OutsideRoot, inside_root

        try:
            chosen = inside_root(root, declared_path)
        except OutsideRoot as exc:
            raise StateError(f"{state_path}: project.path {exc}") from None
        _refuse_another_projects_dir(root, project_id, state_path, chosen,
                                     f"project.path {declared_path!r}", max_state_bytes,
                                     declared)
        return chosen
    candidate = root / project_id
    if not candidate.is_dir():
        return root
    _refuse_another_projects_dir(root, project_id, state_path, candidate,
                                 f"its directory {project_id}/", max_state_bytes, declared)
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
                                 where: str, max_state_bytes: int,
                                 declared: DeclaredPaths) -> None:
    # A project's files are judged under the config found with them (deploygate.yaml, and the
    # approvers and sign-offs it names). state.json, which the release's author writes, or a
    # committed link must not move one project into another's folder, whose reviewed config
    # (its thresholds, its approvers, its sign-offs) would then judge it: compared with
    # <root>/<other> alone, a project.path naming another project's own project.path
    # (services/b) had svc-a judged, and passed, by svc-b's QA sign-off. Nor may one project's
    # folder hold another's, or lie inside it (then one folder's files and sign-offs are two
    # projects'). The root itself holds every project by design (a project with no folder of
    # its own is gated there), so it is neither compared nor compared with.
    real_root = root.resolve()
    real = chosen.resolve()
    if real == real_root:
        return
    for other, place, named in _other_projects_folders(root, project_id, max_state_bytes,
                                                        declared):
        if place == real_root:
            continue
        if real == place or place in real.parents:
            relation = "leads into"
        elif real in place.parents:
            relation = "holds"
        else:
            continue
        # (Which of the two states is wrong cannot be told here: both are named, and both
        # projects are refused until each has a folder of its own.)
        raise StateError(f"{state_path}: {where} {relation} project {other}'s directory "
                         f"{named}; a project's files must be its own and no other project's: "
                         "give each project its own folder, beside the others (project.path "
                         "in its state.json)")


def _other_projects_folders(root: Path, project_id: str, max_state_bytes: int,
                            declared_paths: DeclaredPaths) -> Iterator[tuple[str, Path, str]]:
    """Every other project's folder (its id, the folder resolved, and how it is named): the
    one its state's project.path names, and <root>/<id> when that is a folder. A state that
    cannot be read leaves its project's folder unknown, which is a refusal: a broken state of
    svc-b must not let svc-a's project.path into svc-b's folder unseen."""
    from pytest_deploygate.core.paths import OutsideRoot, inside_root
    from pytest_deploygate.isdlc.state import load_state

    for other_state in sorted((root / ".isdlc" / "projects").glob("*/state.json")):
        other = other_state.parent.name
        if other == project_id:
            continue
        if (root / other).is_dir():
            yield other, (root / other).resolve(), f"{other}/"
        try:
            declared = declared_paths.read(other_state, max_state_bytes, load_state)
        except StateError as exc:
            raise StateError(f"{exc} (project {other}'s folder cannot be told, so neither "
                             f"can whether project {project_id}'s folder is its own; fix "
                             "that state)") from None
        if not isinstance(declared, str) or not declared:
            continue
        try:
            yield other, inside_root(root, declared), \
                f"{declared} (project.path of .isdlc/projects/{other}/state.json)"
        except OutsideRoot:
            continue  # (refused when that project is gated; no folder of the root's)


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


class DeclaredPaths:
    """The project.path of each state a run has read, by the state file's identity (device,
    inode, size, modification time): ``--gate-project=all`` compares every project with every
    other, and reading each other state afresh for each project made a 200-project monorepo
    read 39,800 states. One per run (a run's own reading, never the next run's)."""

    def __init__(self) -> None:
        self._read: dict[tuple[str, int, int, int, int, int], object] = {}

    def read(self, state_path: Path, max_bytes: int,
             load_state: Callable[[Path, int], StateDoc]) -> object:
        """The state's ``project.path`` (a StateError when it cannot be read)."""
        try:
            info = state_path.stat()
        except OSError:
            return load_state(state_path, max_bytes).get("project.path")  # (raises the line)
        key = (str(state_path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
               max_bytes)
        if key not in self._read:
            self._read[key] = load_state(state_path, max_bytes).get("project.path")
        return self._read[key]
