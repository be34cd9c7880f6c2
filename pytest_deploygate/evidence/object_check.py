"""Whether bytes git printed for an object are the object its id names.

``git cat-file`` (``--batch``, ``blob <id>``, ``HEAD:path``) prints what the object store
holds under an id without hashing it: a loose object overwritten under a committed id (the
job user's files, in a kept workspace) is printed as if it were the committed one, whatever
it holds (rt17c: git checks only the objects it parses itself, a commit and the root tree a
read names). So every object the gate reads this way is hashed here as git hashes it,
``<type> <size>\\0`` and the bytes, with the object format the id's length names (sha1,
sha256), and a mismatch fails closed with :func:`forged_object`'s line.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib

#: The object format of an id, by its length in hex digits.
_FORMATS = {40: "sha1", 64: "sha256"}


def object_is(object_id: str | bytes, kind: str | bytes, data: bytes) -> bool:
    """Whether ``data`` is the object ``object_id`` (hex) of type ``kind`` names."""
    hex_id = object_id.decode("ascii", "replace") if isinstance(object_id, bytes) \
        else object_id
    kind_bytes = kind.encode("ascii") if isinstance(kind, str) else kind
    object_format = _FORMATS.get(len(hex_id))
    if object_format is None:
        return False
    header = kind_bytes + b" %d\0" % len(data)
    return hashlib.new(object_format, header + data).hexdigest() == hex_id.lower()


def forged_object(what: str, object_id: str | bytes) -> str:
    """The one line for ``what`` (a file, a commit) whose object is not what its id says."""
    hex_id = object_id.decode("ascii", "replace") if isinstance(object_id, bytes) \
        else object_id
    return (f"{what}: the repository's object store holds other bytes under {hex_id} than "
            "that id names (a corrupt or forged object); run git fsck, and clone again")
