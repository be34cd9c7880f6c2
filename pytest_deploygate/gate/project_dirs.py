"""Where a gated project's files and its deploygate.yaml are: the repository's root for a
single project, a folder of its own for a monorepo project.

Shared by the gate run and ``deploygate verdict``, so both judge a monorepo project in the
same folder under the same config, and bind its record to the same release.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.isdlc.state import StateDoc

if TYPE_CHECKING:
    from pytest_deploygate.gate.committed_folders import CommittedFolder
    from pytest_deploygate.gate.folder_owners import FolderOwner


def project_dir(root: Path, project_id: str | None, state_path: Path, state: StateDoc,
                max_state_bytes: int = DEFAULT_EVIDENCE_BYTES,
                declared: DeclaredPaths | None = None) -> Path:
    """Where a monorepo project's files are: state's project.path, else <root>/<id>, else the
    root; refused when that folder is not the project's own by what the repository commits.

    ``max_state_bytes``: the size limit the other projects' states are read with (to know
    where their folders are). ``declared``: the run's record of the other states'
    project.path (and of the committed project folders), so that gating every project reads
    each other state once."""
    declared = DeclaredPaths() if declared is None else declared
    if project_id is None:
        return root
    folder, where = _chosen_dir(root, project_id, state_path, state, max_state_bytes, declared)
    # (Whatever chose it, project.path or the project's id: a state "lib" with no
    # project.path landed in the listed lib/ by its id: rt18b A01.)
    _refuse_no_projects_folder(root, state_path, folder, where, declared)
    # (Last: the folder is the project's by what the repository commits; now the repository
    # git finds from it, which its release and sign-offs are read from, must be the one
    # committing it, through submodules checked out as pinned: rt18a A01-A03.)
    from pytest_deploygate.gate.pinned_chain import refuse_unpinned_folder

    refuse_unpinned_folder(root, folder, state_path, where, declared.pinned_checkouts)
    return folder


def _chosen_dir(root: Path, project_id: str, state_path: Path, state: StateDoc,
                max_state_bytes: int, declared: DeclaredPaths) -> tuple[Path, str]:
    """project_dir's folder by state and the committed folders, and how the line names it."""
    own = root / project_id
    declared_path = state.get("project.path")
    if isinstance(declared_path, str) and declared_path:
        from pytest_deploygate.core.paths import OutsideRoot, inside_root

        try:
            chosen = inside_root(root, declared_path)
        except OutsideRoot as exc:
            raise StateError(f"{state_path}: project.path {exc}") from None
        where = f"project.path {declared_path!r}"
        _refuse_another_projects_dir(root, project_id, state_path, chosen, where,
                                     max_state_bytes, declared)
        _refuse_another_projects_committed_folder(root, project_id, state_path, chosen,
                                                  where, declared)
        _refuse_leaving_its_own_folder(root, project_id, state_path, chosen, where)
        _refuse_leaving_its_committed_folder(root, project_id, state_path, chosen, where,
                                             declared)
        _refuse_unowned_project_folders(root, project_id, state_path, chosen, where,
                                        max_state_bytes, declared)
        return chosen, where
    if not own.is_dir():
        # At the root for want of a folder: that is also where a project lands whose state
        # lost the project.path naming its folder (which then belongs to no project).
        where = f"no project.path and no folder {project_id}/"
        _refuse_leaving_its_committed_folder(root, project_id, state_path, root, where,
                                             declared)
        _refuse_unowned_project_folders(root, project_id, state_path, root, where,
                                        max_state_bytes, declared)
        return root, where
    where = f"its directory {project_id}/"
    _refuse_another_projects_dir(root, project_id, state_path, own, where, max_state_bytes,
                                 declared)
    _refuse_another_projects_committed_folder(root, project_id, state_path, own, where,
                                              declared)
    _refuse_leaving_its_committed_folder(root, project_id, state_path, own, where, declared)
    return own, where


def _refuse_no_projects_folder(root: Path, state_path: Path, chosen: Path, where: str,
                               declared: DeclaredPaths) -> None:
    # A folder the root's reviewed config lists as no project's (a vendored repository's
    # own, monorepo.not_projects) is unmarked, so no other check sees whose it is: a state
    # naming it would have a project judged by that repository's config and sign-offs.
    not_projects = declared.not_projects(root)
    if not not_projects:
        return
    from pytest_deploygate.gate.not_projects import SETTING, listed_in

    try:
        relative = chosen.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return
    listed = listed_in(relative, not_projects)
    if listed is not None:
        raise StateError(f"{state_path}: {where} leads into {listed}/, which the root's "
                         f"committed deploygate.yaml lists under {SETTING} (no project's "
                         "folder); name the project's own folder in project.path, or remove "
                         f"{listed} from {SETTING} in a reviewed change")


def _refuse_leaving_its_own_folder(root: Path, project_id: str, state_path: Path,
                                   chosen: Path, where: str) -> None:
    # <root>/<id> is the project's folder by what the repository commits (and the default the
    # gate and the framework use): state.json, which whoever writes state edits, must not
    # move the project out of it. project.path "." had svc-a, which has svc-a/, judged at
    # the root by the root project's sign-offs (rt15a #2). A folder inside it stays its own.
    own = root / project_id
    if not own.is_dir():
        return
    real, real_own = chosen.resolve(), own.resolve()
    if real == real_own or real_own in real.parents:
        return
    elsewhere = "the repository root" if real == root.resolve() else "another folder"
    raise StateError(f"{state_path}: {where} names {elsewhere}, but project {project_id} has "
                     f"a folder of its own, {project_id}/: a project is judged in its own "
                     f"folder (its config and sign-offs), never moved out of it by its "
                     f"state; remove project.path, or make it name {project_id}/")


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
    # (The folders the repository commits as projects' are compared, at any depth, by
    # _refuse_another_projects_committed_folder.)


def _refuse_another_projects_committed_folder(root: Path, project_id: str, state_path: Path,
                                              chosen: Path, where: str,
                                              declared: DeclaredPaths) -> None:
    # A folder holding its own committed deploygate.yaml or sign-off folder, at any depth, is
    # one project's by what the repository commits (folder_owners: its deploygate.yaml's
    # project:, else its last part), whether or not a state says so and wherever the states
    # point: svc-a's and svc-b's project.path swapped (services/svc-a <-> services/svc-b) had
    # svc-a judged by svc-b's config and sign-offs (rt16a A02), and deleting svc-b's state
    # had svc-a's project.path lead into svc-b/ unseen (rt15a #1). The nearest such folder at
    # or above the chosen one is whose config and sign-offs judge it, so it must be this
    # project's; one the chosen folder holds must be too, unless it lies in a folder of this
    # project's (a fixture of its own tests is its own business).
    real_root, real = root.resolve(), chosen.resolve()
    if real == real_root:
        return
    owners = declared.owners(root)
    places = {place: folder for folder, place in declared.places(root).items()}
    mine = [place for place, folder in places.items()
            if owners[folder].project == project_id]

    def in_its_own(place: Path) -> bool:
        # (A folder inside one of this project's own is this project's business: its own
        # sub-folder, or a fixture of its tests.)
        return any(m == place or m in place.parents for m in mine)

    nearest = next((place for place in (real, *real.parents) if place in places), None)
    if nearest is not None and nearest != real_root and not in_its_own(nearest):
        folder = places[nearest]
        _refuse_overlap(state_path, where, "leads into", owners[folder].project,
                        owners[folder].describe(folder))
    for place, folder in sorted(places.items()):
        if real in place.parents and not in_its_own(place):
            _refuse_overlap(state_path, where, "holds", owners[folder].project,
                            owners[folder].describe(folder))


def _refuse_overlap(state_path: Path, where: str, relation: str, other: str,
                    named: str) -> None:
    raise StateError(f"{state_path}: {where} {relation} project {other}'s directory {named}; "
                     "a project's files must be its own and no other project's: give each "
                     "project its own folder, beside the others (project.path in its "
                     "state.json; a folder with its own deploygate.yaml, .deploygate/ or "
                     "sign-off files is the project's its deploygate.yaml names with "
                     "project:, else the one named like the folder)")


def _refuse_leaving_its_committed_folder(root: Path, project_id: str, state_path: Path,
                                         chosen: Path, where: str,
                                         declared: DeclaredPaths) -> None:
    # A project that has a committed folder of its own (at any depth, bound as above) is
    # judged there, or in a folder inside it: state.json must not move it to the root, with
    # the root project's sign-offs, or to a folder of nobody in particular, with the root's
    # config, while another state keeps its folder claimed (rt15a #2, one level down). A
    # folder bound to it inside another project's committed folder is that project's
    # (a fixture of its tests), not this project's folder.
    owners = declared.owners(root)
    real_root = root.resolve()
    places = declared.places(root)
    own = []
    for folder, owner in sorted(owners.items()):
        if owner.project != project_id:
            continue
        above = [other for other, place in places.items()
                 if place in places[folder].parents and place != real_root]
        if all(owners[other].project == project_id for other in above):
            own.append(folder)
    if not own:
        return
    real = chosen.resolve()
    if any(real == places[folder] or places[folder] in real.parents for folder in own):
        return
    elsewhere = "the repository root" if real == real_root else "another folder"
    first = own[0]
    raise StateError(f"{state_path}: {where}, so it would be judged in {elsewhere}, but "
                     f"project {project_id} has a folder of its own, "
                     f"{owners[first].describe(first)}: a project is "
                     "judged in its own folder (its config and sign-offs), never moved out "
                     f"of it by its state; make project.path name {first}/")


def _refuse_unowned_project_folders(root: Path, project_id: str, state_path: Path,
                                    chosen: Path, where: str, max_state_bytes: int,
                                    declared: DeclaredPaths) -> None:
    # A project whose folder state.json chooses (its project.path, or the root when it names
    # none) may be one that state moved out of its own folder: a committed project folder
    # (its own deploygate.yaml or sign-off folder) that no project's state accounts for is
    # then maybe this project's, and the folder chosen for it maybe another project's or
    # nobody's in particular (the root, with the root's sign-offs). Which one cannot be told,
    # so no project whose folder state chose is judged until every committed project folder
    # is some project's again. A project in <root>/<id> is judged there by what the
    # repository commits, whatever any state says, so it is never refused for this.
    committed = declared.committed(root)
    if not committed:
        return
    claimed = [(project_id, chosen.resolve())]
    if (root / project_id).is_dir():
        claimed.append((project_id, (root / project_id).resolve()))  # (chosen lies in it)
    claimed += list(_projects_folders(root, project_id, max_state_bytes, declared))
    real_root = root.resolve()
    named = "the repository root" if chosen.resolve() == real_root else \
        f"{chosen.resolve().relative_to(real_root).as_posix()}/"
    holders = [(pid, c) for pid, c in claimed if c != real_root]
    owners = declared.owners(root)
    for folder, found in sorted(committed.items()):
        holds = found.holds
        real = (root / folder).resolve()
        if any(real == c or c in real.parents for _, c in holders):
            continue
        # A folder a project's state names inside a committed folder of that same project
        # (project.path services/svc-a/src, its config and sign-offs at services/svc-a/) is
        # accounted for by it: the project is judged there under that folder's config, as
        # _refuse_leaving_its_committed_folder allows (rt18a F2).
        owner = owners.get(folder)
        if owner is not None and any(real in c.parents and owner.project == pid
                                     for pid, c in holders):
            continue
        raise StateError(f"{state_path}: {folder}/ holds {holds}, so it is a project's "
                         "folder, but no project's state names it (its state deleted, or "
                         "its project.path moved): whose it is cannot be told, so neither "
                         f"can whether {named} ({where}) is project {project_id}'s own; name "
                         f"{folder}/ in its project's state (project.path), or name the "
                         "folder after its project; a folder that is no project of this "
                         "repository (a vendored repository's own) is listed under monorepo: "
                         "not_projects: in the root's committed deploygate.yaml")


def _projects_folders(root: Path, project_id: str, max_state_bytes: int,
                      declared_paths: DeclaredPaths) -> Iterator[tuple[str, Path]]:
    """The folder each other project with a state is judged in, as project_dir finds it
    (project.path, else <root>/<id>, else the root), and its <root>/<id> when that is a
    folder; a state that cannot be read, or a project.path out of the root, names no more
    (that project is refused when gated)."""
    from pytest_deploygate.core.paths import OutsideRoot, inside_root
    from pytest_deploygate.isdlc.state import load_state

    for other_state in sorted((root / ".isdlc" / "projects").glob("*/state.json")):
        other = other_state.parent.name
        if other == project_id:
            continue
        own = root / other
        if own.is_dir():  # (<root>/<id> is its by name, wherever its state points)
            yield other, own.resolve()
        try:
            declared = declared_paths.read(other_state, max_state_bytes, load_state)
        except StateError:
            declared = None  # (its default folder, at most: refused when it is gated)
        if isinstance(declared, str) and declared:
            try:
                folder = inside_root(root, declared)
            except OutsideRoot:
                continue
        else:
            folder = own if own.is_dir() else root
        yield other, folder.resolve()


def shown_folder(root: Path, folder: Path) -> str:
    """How a line names a project's folder: from the monorepo root, or the root itself."""
    try:
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder)
    return "the repository root" if relative == "." else f"{relative}/"


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
        self._committed: dict[Path, dict[str, CommittedFolder]] = {}
        self._not_projects: dict[Path, tuple[str, ...]] = {}
        self._owners: dict[Path, dict[str, FolderOwner]] = {}
        self._places: dict[Path, dict[str, Path]] = {}
        #: submodule checkouts found at the commit their parent pins (pinned_chain)
        self.pinned_checkouts: set[tuple[Path, str]] = set()

    def committed(self, root: Path) -> dict[str, CommittedFolder]:
        """The project folders committed under ``root``, through submodules
        (committed_folders), asked of git once per run."""
        if root not in self._committed:
            from pytest_deploygate.gate.committed_folders import committed_layout

            layout = committed_layout(root)
            self._committed[root] = layout.folders
            self._not_projects[root] = layout.not_projects
        return self._committed[root]

    def not_projects(self, root: Path) -> tuple[str, ...]:
        """The folders the root's committed deploygate.yaml lists as no project's
        (monorepo.not_projects), asked of git with the committed folders."""
        self.committed(root)
        return self._not_projects[root]

    def owners(self, root: Path) -> dict[str, FolderOwner]:
        """Whose each committed project folder is (folder_owners), asked of git once per
        run."""
        if root not in self._owners:
            from pytest_deploygate.gate.folder_owners import folder_owners

            self._owners[root] = folder_owners(self.committed(root))
        return self._owners[root]

    def places(self, root: Path) -> dict[str, Path]:
        """Each committed project folder, resolved (once per run: every project gated is
        compared with every folder)."""
        if root not in self._places:
            self._places[root] = {folder: (root / folder).resolve()
                                  for folder in self.owners(root)}
        return self._places[root]

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
