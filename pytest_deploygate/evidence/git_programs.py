"""Switching off every program the job's git configuration names for a driver.

git starts programs its configuration names: a ``filter.<driver>.clean`` (or ``smudge``,
``process``) for a file whose attributes choose the driver, a ``diff.<driver>.command`` or
``textconv``, ``diff.external``. That configuration (``.git/config`` and what it includes, a
submodule's own configuration) and the attributes choosing a driver (``.git/info/attributes``,
an untracked ``.gitattributes``) are the job user's files, left behind on a kept workspace by
any earlier run. So a program there ran as the job user inside the gate's process tree, with
the signing key in its environment (rt16a A06), whenever the gate's own git hashed a file
(``git describe --dirty``, ``git diff``).

Drivers are configured per name and git has no wildcard to switch them all off, so the names
the configuration defines are read first (``git config --list``, which runs nothing) and each
one's programs are set empty on git's command-line scope, which wins over every file: an
empty filter command is no filter (the bytes pass unchanged); an empty diff program is one git
cannot start (the command fails: fail closed). The answer is kept per repository and
configuration, for as long as none of the configuration files it came from changes.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_deploygate.evidence.toplevel_cache import show_toplevel

#: (section, keys switched off): filter drivers pass bytes unchanged, diff programs fail.
_OFF = {"filter": (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")),
        "diff": (("command", ""), ("textconv", ""))}
#: Submodules inside submodules, followed this deep (git diff looks into each one).
_DEPTH = 8

_Signature = tuple[tuple[str, int, int, int], ...]
_CACHE: dict[tuple[str, ...], tuple[_Signature, tuple[tuple[str, str], ...]]] = {}


class ConfigurationUnreadable(OSError):
    """git could not list the configuration, so what it would start is unknown."""


def programs_off(git: Sequence[str], root: Path, env: Mapping[str, str]
                 ) -> tuple[tuple[str, str], ...]:
    """(key, value) settings switching off every driver program the configuration that git
    (``git``: the program and its fixed options, run in ``root`` with ``env``) reads
    defines, in the repository at ``root`` and in every checked-out submodule below it.
    ConfigurationUnreadable when git cannot list it (then nothing may run git here)."""
    # The configuration and the submodules checked out are the repository's whatever index a
    # command reads: a scratch index (GIT_INDEX_FILE, the dirty check's, empty before its
    # read-tree) listed no submodule, so a submodule's own driver ran in the diff after it.
    env = {name: value for name, value in env.items() if name != "GIT_INDEX_FILE"}
    common = (*git, *sorted(f"{k}={v}" for k, v in env.items()))
    key = (*common, str(root))
    for place in _same_repository(root):
        cached = _CACHE.get((*common, place))
        if cached is not None and _signature(cached[0]) == cached[0]:
            return cached[1]
    origins: dict[str, None] = {}
    settings: dict[tuple[str, str], None] = {}
    _collect(git, root, env, origins, settings, _DEPTH)
    signature = _signature(tuple((path, 0, 0, 0) for path in origins))
    _CACHE[key] = (signature, tuple(settings))
    return tuple(settings)


def _same_repository(root: Path) -> list[str]:
    """``root`` and the folders above it (resolved) that git finds the same repository from:
    up to the nearest one holding a ``.git`` (a work tree's top, a submodule's or a nested
    repository's). A folder below a listed repository's top reads that repository's
    configuration and none other, so its answer serves: the gate asks about a report's own
    folder after asking about the project (rt16a: one listing, not one per folder). A path
    inside a ``.git`` folder is only itself."""
    try:
        place = root.resolve()
    except (OSError, RuntimeError):
        return [str(root)]
    found = [str(root)]
    if ".git" in place.parts:
        return found
    for folder in (place, *place.parents):
        if str(folder) not in found:
            found.append(str(folder))
        if os.path.lexists(folder / ".git"):
            return found
    return found[:1]  # (in no work tree: only itself)


def _collect(git: Sequence[str], root: Path, env: Mapping[str, str], origins: dict[str, None],
             settings: dict[tuple[str, str], None], depth: int) -> None:
    listed = _run(git, root, env, ("config", "-z", "--show-origin", "--list"))
    if listed is None:
        raise ConfigurationUnreadable(f"git cannot list the configuration at {root}")
    # Where git works: the top of the work tree (the gate's root may be a folder below it).
    # (The same answer the gate's other questions get: asked once per repository.)
    code, shown = show_toplevel(root, lambda: _answer(git, root, env))
    top = shown.rstrip("\n") if code == 0 and shown else None
    submodule = depth < _DEPTH
    if submodule and (top is None or Path(top).resolve() != root.resolve()):
        # Its own configuration (the job user's file) can move its work tree elsewhere
        # (core.worktree), where git then looks for nested submodules this listing would
        # look for under ``root`` (rt17a A03).
        raise ConfigurationUnreadable(
            f"the submodule checked out at {root} works on {top or 'no folder git can name'} "
            "(core.worktree of its own configuration): which programs git would start there "
            "cannot be listed; check it out again (git submodule update --init --force)")
    for origin, entry in zip(listed[0::2], listed[1::2], strict=False):
        if origin.startswith("file:"):
            # (A relative origin is from the top of the work tree, where git runs.)
            origins[os.path.join(top or str(root), origin.removeprefix("file:"))] = None
        name = entry.partition("\n")[0]
        for setting in _switched_off(name):
            settings[setting] = None
    if top is None:  # outside a checkout there is nothing to list
        return
    # git diff (and status) look inside every checked-out submodule, with the submodule's
    # own configuration and the settings given here (git passes them on).
    # Both the job's index and HEAD's tree say where submodules are (a command reading either
    # looks into them; the job's index may leave one out that HEAD has). Both name paths from
    # the top: HEAD's were looked for under a gate root in a subfolder (rt17a A01).
    in_index = _run(git, root, env, ("ls-files", "-s", "-z", "--full-name", "--", ":(top)"))
    if in_index is None and submodule:
        raise ConfigurationUnreadable(f"git cannot list the index of the submodule at {root}")
    listed = [*(in_index or ()),
              *(_run(git, root, env, ("ls-tree", "-r", "-z", "--full-tree", "HEAD")) or ())]
    inside: dict[Path, None] = {}
    for line in listed:
        meta, _, path = line.partition("\t")
        if (meta.startswith("160000 ") or " commit " in meta) and \
                (Path(top) / path / ".git").exists():
            inside[Path(top) / path] = None
    if inside and depth <= 0:
        # git itself goes down every level: a driver below the last one listed would run
        # (a chain of submodules staged only in each parent's index reached one).
        raise ConfigurationUnreadable(
            f"submodules nested more than {_DEPTH} levels deep at {root}: which programs "
            "their git configuration names cannot be listed; remove the nesting")
    for folder in inside:
        _collect(git, folder, env, origins, settings, depth - 1)


def _answer(git: Sequence[str], root: Path, env: Mapping[str, str]) -> tuple[int, str]:
    shown = _run(git, root, env, ("rev-parse", "--show-toplevel"))
    return (0, shown[0]) if shown else (128, "")


def _switched_off(name: str) -> list[tuple[str, str]]:
    """The settings that switch off what configuration key ``name`` could start."""
    if name.lower() == "diff.external":
        return [("diff.external", "")]
    section, dot, rest = name.partition(".")
    # <section>.<driver>.<key>: the driver is everything between the first and last dot
    # (it may hold dots, "=" or anything else).
    if not dot or "." not in rest or section.lower() not in _OFF:
        return []
    driver = rest[:rest.rindex(".")]
    return [(f"{section.lower()}.{driver}.{key}", value)
            for key, value in _OFF[section.lower()]]


def _run(git: Sequence[str], root: Path, env: Mapping[str, str], args: tuple[str, ...]
         ) -> list[str] | None:
    try:
        done = subprocess.run([*git, "-C", str(root), *args], capture_output=True, timeout=60,
                              check=False, env=dict(env), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationUnreadable(f"git could not run: {exc}") from None
    if done.returncode != 0:
        return None
    return [part for part in done.stdout.decode("utf-8", "surrogateescape").split("\0") if part]


def _signature(files: _Signature) -> _Signature:
    """Each configuration file's identity and modification (a rewritten file is another)."""
    found = []
    for path, *_ in files:
        try:
            status = os.stat(path)
        except OSError:
            found.append((path, -1, -1, -1))
            continue
        found.append((path, status.st_ino, status.st_size, status.st_mtime_ns))
    return tuple(found)


def as_environment(settings: Sequence[tuple[str, str]], extra: Mapping[str, str]
                   ) -> dict[str, str]:
    """``extra`` with GIT_CONFIG_COUNT variables giving whatever such variables it already
    gives and then ``settings``, which come last so that they win. Set this way, not with
    ``-c``, which splits at the first "=": a driver's name may hold one."""
    given = [(extra.get(f"GIT_CONFIG_KEY_{index}", ""), extra.get(f"GIT_CONFIG_VALUE_{index}", ""))
             for index in range(int(extra.get("GIT_CONFIG_COUNT", "0") or "0"))]
    env = {k: v for k, v in extra.items() if not k.startswith(("GIT_CONFIG_KEY_",
                                                                "GIT_CONFIG_VALUE_"))}
    every = [*given, *settings]
    env["GIT_CONFIG_COUNT"] = str(len(every))
    for index, (key, value) in enumerate(every):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env
