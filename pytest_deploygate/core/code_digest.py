"""The SHA-256 of the package's own code: what a cache of derived data must name.

Anything remembered between runs (a spec loaded and validated, say) was made by this code; a
fix of the code must not be outlived by what the unfixed code derived. The digest covers every
file of the installed package (sources and shipped schemas; ``__pycache__`` and the built-in
gate specs aside: a spec is an input of its own), path and content.

Hashing the whole package costs more than the verdict it serves, so the digest is remembered
too, in the private cache, under the exact metadata of every file (path, size, inode, and the
modification and change times in nanoseconds: the change time moves on every write and cannot
be set back by the user). Any change of any file is a new name, so a new hash of every file.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import hashlib
import os

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NAMESPACE = "code-digest"
#: Folders of the package that hold no code: compiled bytecode (derived from the sources),
#: and the built-in gate specs (data: whatever is derived from a spec names its bytes).
_NOT_CODE = ("__pycache__", "gate_specs")


@functools.cache
def package_code_digest() -> str:
    """SHA-256 of every file of the package (see the module docstring)."""
    from pytest_deploygate.core.private_cache import read_entry, write_entry

    files = _package_files()
    metadata = _metadata_digest(files)
    if metadata is not None:
        remembered = read_entry(_NAMESPACE, metadata)
        if remembered is not None and len(remembered) == 64 and \
                not remembered.strip(b"0123456789abcdef"):
            return remembered.decode("ascii")
    digest = _content_digest(files)
    # Remembered only when no file changed while it was read (a file added meanwhile is in
    # neither digest: the next run's listing names it, so a new entry).
    if metadata is not None and metadata == _metadata_digest(files):
        write_entry(_NAMESPACE, metadata, digest.encode("ascii"))
    return digest


def _package_files() -> list[str]:
    found = []
    for folder, subfolders, names in os.walk(_PACKAGE):
        subfolders[:] = sorted(name for name in subfolders if name not in _NOT_CODE)
        found += [os.path.join(folder, name) for name in sorted(names)
                  if not name.endswith((".pyc", ".pyo"))]
    return found


def _metadata_digest(files: list[str]) -> str | None:
    digest = hashlib.sha256()
    try:
        for path in files:
            info = os.lstat(path)
            digest.update(f"{path}\0{info.st_size}\0{info.st_ino}\0"
                          f"{info.st_dev}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0"
                          f"{info.st_mode}\n".encode("utf-8", "surrogateescape"))
    except OSError:
        return None
    return digest.hexdigest()


def _content_digest(files: list[str]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path[len(_PACKAGE):].encode("utf-8", "surrogateescape"))
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as exc:  # unreadable: a digest no cache entry can have
            content = f"\0unreadable {exc.errno} {os.urandom(16).hex()}".encode()
        digest.update(f"\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()
