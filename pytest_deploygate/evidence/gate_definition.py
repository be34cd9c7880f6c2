"""The gate's definition that lies outside a monorepo project's folder, as release content.

A project in its own folder of a monorepo (``.isdlc/projects/<id>/`` for its state, ``<id>/``
or ``project.path`` for its files) has its folder as release content. But its gate is defined
by files the gate reads from the monorepo root, outside that folder: the framework's
checklists (``.isdlc/checklists/``: one folder for every project), the spec folder
(``gate_specs/`` or ini ``deploygate_specs``), a ``deploygate.yaml`` above the project (the
nearest one judges a folder that has none), and pytest's ini file and ``conftest.py`` there
(which name the spec folder and record directory, and register check kinds). A commit to any
of them changed what the gate checks while the project's release, and so its sign-offs,
records and tag, stayed: a checklist with a criterion removed turned a FAIL into a PASS that
verdict bound. So each of them is release content of every project the root gates: paths
from the repository's top, added to the project's folder in its release commit, tree and
dirty check (``evidence/release.py``).

The spec folder is bound where it leads (its files) and as it is named: every symbolic link
the path passes through is bound too. Bound by its target alone, ``gate_specs`` replaced by
a committed link to an older, laxer folder of the repository was no change of the release
(neither the deleted specs nor the link were in it), and the old sign-offs bound a PASS.

The pytest configuration file pytest chose (``config.inipath``: found above the project, or
named with ``-c``) is bound too, wherever it lies in the repository outside the project's
folder (for a project at its gate root as well): the names of :data:`CONFIG_NAMES` in the
folders above the project missed ``-c ci/gate.ini``, and a file above a project in a folder
of its repository, which name its spec folder, record directory and addopts.

Which paths those are is known where the project is opened (the gate root, the spec folder);
the release functions, called from many places with the project root alone, find them here by
that root. A project at the repository's top (or at the gate root) has none: everything is in
its folder already.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from pytest_deploygate.core.pytest_config_files import PYTEST_CONFIG_FILES
from pytest_deploygate.evidence.git import git_command, git_environment
from pytest_deploygate.evidence.toplevel_cache import show_toplevel

#: How a bookkeeping tuple carries a path of release content outside the project's folder
#: (from the repository's top): no relative path of a project starts so.
OUTSIDE_MARK = "//"
#: The files of the gate root (and of each folder between it and the project) that configure
#: the gate: the project config, conftest.py and every file pytest reads its configuration
#: from (the list the ini reader uses, so the two cannot drift apart).
CONFIG_NAMES = ("deploygate.yaml", "conftest.py", *PYTEST_CONFIG_FILES)
#: The framework's checklists, from the gate root.
CHECKLISTS = ".isdlc/checklists"

_lock = threading.Lock()
_outside: dict[Path, tuple[str, ...]] = {}
_specs: dict[Path, str | None] = {}
_links: dict[Path, frozenset[str]] = {}
#: How many links one path may pass through (the kernel's own limit is 40).
_LINK_HOPS = 40


def bind_definition(project_root: Path, gate_root: Path, spec_dir: Path,
                    ini_path: Path | None = None) -> tuple[str, ...]:
    """Remember (and return) the paths, from the repository's top, of the gate's definition
    outside ``project_root``'s folder: every release function that takes this root counts
    them as its release content. ``ini_path``: the pytest configuration file the gate's
    settings were read from (None: none)."""
    paths = definition_outside(project_root, gate_root, spec_dir, ini_path)
    top = _top(gate_root)
    specs = _real(spec_dir)
    folder = specs.relative_to(top).as_posix() if paths and top is not None \
        and specs.is_relative_to(top) and specs.relative_to(top).as_posix() in paths else None
    links = frozenset(_bound_links(project_root, top, spec_dir)
                      + _bound_links(project_root, top, ini_path)) if paths and top else \
        frozenset()
    with _lock:
        _outside[_key(project_root)] = paths
        _specs[_key(project_root)] = folder
        _links[_key(project_root)] = links
    return paths


def outside_entries(project_root: Path) -> tuple[str, ...]:
    """The bookkeeping-tuple entries (:data:`OUTSIDE_MARK` + path) bound for this root."""
    with _lock:
        paths = _outside.get(_key(project_root), ())
    return tuple(OUTSIDE_MARK + path for path in paths)


def definition_outside(project_root: Path, gate_root: Path, spec_dir: Path,
                       ini_path: Path | None = None) -> tuple[str, ...]:
    """The gate-definition paths outside ``project_root`` (from the repository's top): the
    gate root's checklists, the spec folder when it is in the repository, and the
    configuration files of the gate root and of every folder between it and the project;
    and ``ini_path`` (pytest's configuration file), where it leads and the links on the way,
    when it is in the repository outside the project's folder. Empty when the project root
    is the gate root and the configuration file in its folder (or not in git)."""
    project = _real(project_root)
    gate = _real(gate_root)
    if project == gate and (ini_path is None or _real(ini_path).is_relative_to(project)):
        return ()  # (everything in its folder already: no git asked)
    top = _top(gate_root)
    if top is None:
        return ()
    config = _config_file_outside(project, top, ini_path) + [
        top / link for link in _bound_links(project_root, top, ini_path)]
    if project == gate or not project.is_relative_to(gate) or not gate.is_relative_to(top):
        return tuple(dict.fromkeys(p.relative_to(top).as_posix() for p in config))
    folders = []
    folder = project.parent
    while folder.is_relative_to(gate):
        folders.append(folder)
        if folder == gate:
            break
        folder = folder.parent
    wanted = [gate / CHECKLISTS]
    specs = _real(spec_dir)
    if specs.is_relative_to(top) and not specs.is_relative_to(project):
        wanted.append(specs)
    wanted += [top / link for link in _bound_links(project_root, top, spec_dir)]
    wanted += [f / name for f in folders for name in CONFIG_NAMES]
    wanted += config
    return tuple(dict.fromkeys(p.relative_to(top).as_posix() for p in wanted))


def _config_file_outside(project: Path, top: Path, ini_path: Path | None) -> list[Path]:
    """pytest's configuration file where it leads, when that is in the repository and
    outside the project's folder (inside it, it is the project's release content already;
    outside the repository, the run refused it unless the command line named it:
    gate/definition_sources.py)."""
    if ini_path is None:
        return []
    real = _real(ini_path)
    return [real] if real.is_relative_to(top) and not real.is_relative_to(project) else []


def way_out(path: Path, top: Path) -> tuple[bool, Path | None]:
    """Whether ``path`` leads out of the repository at ``top`` (resolved), and the first
    symbolic link in the repository on the way (None: none): a link the repository holds
    chooses where the gate is read from, whoever named the path that passes through it."""
    if _real(path).is_relative_to(top):
        return False, None
    for link in links_on_the_way(path):
        if link != top and link.is_relative_to(top):
            return True, link
    return True, None


def spec_folder_outside_problem(spec_dir: Path, top: Path, named_by_a_file: bool,
                                command_line: str) -> str | None:
    """Why the gate may not read its specs from ``spec_dir`` outside the repository at
    ``top`` (None when it may, or when it is in the repository): only the command line may
    name a folder outside it (``named_by_a_file``: a file of the repository, or the
    environment, named it), and never through a link of the repository, which chooses
    where it leads whoever named the path. ``command_line``: the option that names one."""
    if not (spec_dir.exists() or spec_dir.is_symlink()):
        return None  # (no folder: the built-in specs; a named one that is missing is refused)
    outside, link = way_out(spec_dir, top)
    shown = os.path.normpath(spec_dir)
    if not outside or (link is None and not named_by_a_file):
        return None
    how = f"leads out of the repository {top} through {link}, a link in it" \
        if link is not None else f"is outside the repository {top}"
    instead = "name the folder itself" if link is not None else "name the folder"
    return (f"{shown} {how}, so it is no release content (a change there after the "
            "sign-offs is no new release); keep the specs in the repository (gate_specs/), or "
            f"{instead} on the CI job's command line ({command_line})")


def repository_top(folder: Path) -> Path | None:
    """The top (resolved) of the work tree ``folder`` is in; None outside git."""
    return _top(folder)


def spec_folder_of(project_root: Path) -> str | None:
    """The spec folder among the bound paths (from the top), when it is outside the
    project's folder and in the repository (its untracked spec files count as changes)."""
    with _lock:
        return _specs.get(_key(project_root))


def links_of(project_root: Path) -> frozenset[str]:
    """The symbolic links on the way to the spec folder among the bound paths (from the
    top): each is release content as a link, never a folder of files."""
    with _lock:
        return _links.get(_key(project_root), frozenset())


def _bound_links(project_root: Path, top: Path, spec_dir: Path | None) -> list[str]:
    """The links on the way to the spec folder (or configuration file) from the top that are
    in the repository and outside the project's folder (inside it they are its release
    content already, and checked to lead to release content: release._link_problem)."""
    if spec_dir is None:
        return []
    project = _real(project_root)
    return [link.relative_to(top).as_posix() for link in links_on_the_way(spec_dir)
            if link != top and link.is_relative_to(top) and not link.is_relative_to(project)]


def links_on_the_way(path: Path) -> list[Path]:
    """Every symbolic link that resolving ``path`` passes through, in order, each as the
    path of the link itself (its folder resolved, its own name kept): where a link is
    named, which is what git tracks, not where it leads."""
    parts = list(Path(os.getcwd(), path).parts)  # ('..' kept: it applies after a link)
    if not parts:
        return []
    current, pending = Path(parts[0]), parts[1:]
    links: list[Path] = []
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            current = current.parent
            continue
        candidate = current / part
        if not candidate.is_symlink():
            current = candidate
            continue
        if len(links) >= _LINK_HOPS:
            break  # (a loop: resolving fails the same way for the gate)
        links.append(candidate)
        try:
            target = Path(os.readlink(candidate))
        except OSError:
            break
        if target.is_absolute():
            current = Path(target.anchor)
        pending[:0] = [p for p in target.parts if p != target.anchor]
    return links


def _key(root: Path) -> Path:
    return _real(root)


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _top(folder: Path) -> Path | None:
    """The repository's top (resolved), or None outside a work tree."""
    try:
        # (First: listing the job's drivers answers the top too, for the cache below.)
        env = git_environment(folder)
    except OSError:
        return None

    def ask() -> tuple[int, str]:
        try:
            done = subprocess.run(git_command(folder, ("rev-parse", "--show-toplevel")),
                                  capture_output=True, timeout=60, check=False, env=env)
        except (OSError, subprocess.TimeoutExpired):
            return 128, ""
        return done.returncode, done.stdout.decode("utf-8", "surrogateescape")

    # (Asked of the same checkout for each folder of the definition: once per key.)
    code, text = show_toplevel(folder, ask)
    text = text.removesuffix("\n")
    return _real(Path(text)) if code == 0 and text else None
