"""Resolving spec-given paths strictly inside the project root.

A spec or config names files relative to the gated project; a path with ``..``, an absolute
path, or a symlink that leads out of the root must never let a gate read evidence from
somewhere else.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class OutsideRoot(ValueError):
    """The path would leave the project root."""


def inside_root(root: Path, relative: str) -> Path:
    """``root / relative`` after checking it stays inside ``root`` (symlinks resolved).

    The returned path is the resolved one. A path that does not exist yet is checked by its
    existing parent, so "not found" stays distinguishable from "outside the root".
    """
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (pure.parts and pure.parts[0].endswith(":")):
        raise OutsideRoot(f"{relative!r} is absolute; paths are relative to the project root")
    if ".." in pure.parts:
        raise OutsideRoot(f"{relative!r} contains '..'; paths must stay inside the project root")
    real_root = root.resolve()
    candidate = root.joinpath(*pure.parts)
    resolved = candidate.resolve()
    if resolved != real_root and real_root not in resolved.parents:
        raise OutsideRoot(f"{relative!r} resolves to {resolved}, outside the project root")
    return resolved


def configured_path(value: str, base: Path) -> Path:
    """The path an option or an ini setting names: ``~`` expanded, relative to ``base``.
    :class:`ValueError` says what is wrong: a NUL, or a ``~user`` this machine has no home
    for (both were tracebacks, of pytest and of the ``deploygate`` commands)."""
    if "\x00" in value:
        raise ValueError("holds a NUL character; give a path")
    try:
        path = Path(value).expanduser()
    except RuntimeError:
        home = value.split("/")[0]
        raise ValueError(f"{home!r} names no home directory on this machine; give the path "
                         "itself") from None
    return path if path.is_absolute() else base / path



def folder_problem(path: Path) -> str | None:
    """Why ``path`` is no folder to read (None when it is one). A name too long or a parent
    that may not be searched is said so, not raised (it was a traceback of pytest and of the
    ``deploygate`` commands)."""
    try:
        return None if path.is_dir() else f"{path} is not a folder"
    except OSError as exc:
        return f"{path} cannot be looked at ({exc.strerror or exc})"
