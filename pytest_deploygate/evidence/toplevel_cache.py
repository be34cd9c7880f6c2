"""``git rev-parse --show-toplevel`` answered once per folder and repository, per process.

A gate run asked git for the top of the same checkout a dozen times (each reviewed file,
each evidence folder, the spec folder): one git process each. The answer is a function of
where git's discovery stops: the nearest folder above holding ``.git``, and what that
repository's configuration says of its work tree (``core.worktree``), and whether git may
read it at all (the owners ``safe.directory`` looks at). So an answer is kept under all of
those: the first folder above (the folder itself included, resolved) that holds ``.git``,
the identity and owner of that ``.git`` and the owner of the folder, and the bytes of the
repository's ``config`` and ``config.worktree``. A folder of the same checkout shares the
answer; a folder below a nested repository, a ``.git`` made or replaced in between, another
owner or another configuration is another key, so git is asked again. A configuration that
names a ``core.worktree`` keys by the folder as well. A ``.git`` file (a linked work tree, a
submodule), a configuration that includes other files, or a folder inside ``.git`` is never
cached: what decides there lies elsewhere.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

_Key = tuple[object, ...]
_CACHE: dict[_Key, str] = {}


def show_toplevel(root: Path, ask: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """``ask()`` (git's ``rev-parse --show-toplevel`` in ``root``), or the answer it gave
    before under the same discovery key. Only a success is kept."""
    key = _discovery_key(root)
    if key is not None and key in _CACHE:
        return 0, _CACHE[key]
    code, out = ask()
    if key is not None and code == 0 and _discovery_key(root) == key:
        _CACHE[key] = out
    return code, out


def _discovery_key(root: Path) -> _Key | None:
    try:
        place = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if ".git" in place.parts:
        return None
    marks: list[object] = []
    for folder in (place, *place.parents):
        try:
            found = os.lstat(folder / ".git")
        except FileNotFoundError:
            continue
        except OSError:
            return None
        if not stat.S_ISDIR(found.st_mode):
            return None
        configuration = [_bytes(folder / ".git" / name) for name in ("config", "config.worktree")]
        if any(b"include" in (text or b"").lower() for text in configuration):
            return None
        try:
            owner = os.lstat(folder).st_uid
        except OSError:
            return None
        marks.extend((str(folder), found.st_ino, found.st_dev, found.st_uid, owner,
                      *configuration))
        if any(b"worktree" in (text or b"").lower() for text in configuration):
            # (core.worktree names the top, and whether a folder is in it: per folder.)
            marks.append(str(place))
        return tuple(marks)
    return None  # (in no repository: git says so each time)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return b"include"  # (unreadable: never cached)
