"""Reading the iSDLC state.json, once, and looking values up by dotted path.

Real state files vary (unknown keys, missing phases, ``current_phase: null``); lookups report
"not found" with the part of the path that was missing, or a wrong type with what was found,
so check messages can say exactly what the gate saw.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.value_class import value_class

_MISSING = object()


@value_class(frozen=True)
class Lookup:
    """The result of a dotted-path lookup."""

    path: str
    found: bool
    value: Any = None
    problem: str = ""

    def describe(self) -> str:
        """``path is 'value'`` or why the path has no value."""
        if not self.found:
            return self.problem
        return f"{self.path} is {json.dumps(self.value)}"


class StateDoc:
    """A loaded state.json: read-only, with dotted-path lookups."""

    def __init__(self, path: Path, data: Mapping[str, Any], sha256: str) -> None:
        self.path = path
        self.data = data
        self.sha256 = sha256

    def lookup(self, dotted: str) -> Lookup:
        """Look up ``a.b.c``; a missing key or a non-object on the way is "not found"."""
        current: Any = self.data
        parts = dotted.split(".")
        # (What has been walked is parts[:index], named only in a problem. A dict, what
        # json.loads builds, is a Mapping: tested first, without the ABC's check.)
        for index, part in enumerate(parts):
            if type(current) is dict or isinstance(current, Mapping):
                if part not in current:
                    where = ".".join(parts[:index + 1])
                    return Lookup(dotted, False, problem=f"{where} is not in {self.path.name}")
                current = current[part]
            elif isinstance(current, list) and _is_index(part) and int(part) < len(current):
                current = current[int(part)]
            else:
                where = ".".join(parts[:index]) or "(top level)"
                return Lookup(
                    dotted,
                    False,
                    problem=f"{where} is {_type_name(current)}, not an object "
                    f"(looking for {dotted})",
                )
        return Lookup(dotted, True, current)

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value at ``dotted``, or ``default`` when it is absent."""
        found = self.lookup(dotted)
        return found.value if found.found else default

    def phase_key(self, gate: int) -> str | None:
        """The key of ``phases`` whose number is ``gate`` (``11`` -> ``11-test-deploy``)."""
        phases = self.data.get("phases")
        if not isinstance(phases, Mapping):
            return None
        matches = [key for key in phases if isinstance(key, str) and _phase_number(key) == gate]
        return matches[0] if len(matches) == 1 else None


def load_state(path: Path, max_bytes: int = DEFAULT_EVIDENCE_BYTES) -> StateDoc:
    """Read and parse state.json, or raise :class:`StateError` with one clear line."""
    try:
        raw = read_regular_file(path, max_bytes)
    except UnusableFile as exc:
        raise StateError(f"{path}: state {exc.reason}") from None
    except FileNotFoundError:
        raise StateError(
            f"{path}: state file not found; run the gate in an iSDLC project "
            "or pass --gate-state=PATH"
        ) from None
    except IsADirectoryError:
        raise StateError(f"{path}: is a directory, not a state file") from None
    except OSError as exc:
        raise StateError(f"{path}: cannot read state file: {exc.strerror or exc}") from None
    from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8

    try:
        text = decode_utf8(raw)
    except NotUtf8 as exc:
        raise StateError(f"{path}:{exc.line}: {exc.detail}") from None
    if not text.strip():
        raise StateError(f"{path}: state file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{path}:{exc.lineno}:{exc.colno}: state file is not valid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise StateError(f"{path}: state file nests too deeply") from None
    except ValueError:
        # Not a JSONDecodeError: int()'s own refusal of a number of more than 4,300 digits
        # (Python's limit on integer text), which json raises as it is; it was a traceback
        # of `deploygate verdict` and `validate` and a line naming no file in a gate run.
        raise StateError(_long_number(path, text)) from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: state file must hold a JSON object, found {_type_name(data)}")
    return StateDoc(path, data, hashlib.sha256(raw).hexdigest())


def _long_number(path: Path, text: str) -> str:
    """The refusal of a number too long to read, on its line."""
    import re
    import sys

    limit = sys.get_int_max_str_digits()
    found = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
    line = text.count("\n", 0, found.start()) + 1 if found else 1
    return (f"{path}:{line}: state file is not valid JSON: a number of more than {limit} "
            "digits; give a number a float can hold")


def _is_index(text: str) -> bool:
    # ASCII digits only: str.isdigit() also says yes to "²" or "١", which int() refuses or
    # reads as another number than the one shown.
    return text.isascii() and text.isdigit()


def _phase_number(key: str) -> int | None:
    head = key.split("-", 1)[0]
    return int(head) if _is_index(head) else None


def phase_number(key: str) -> int | None:
    """The number of a phase key (``12-production`` -> 12), or None."""
    return _phase_number(key)


def type_name(value: Any) -> str:
    """``an object``, ``a string``, ``null``... for messages about wrong types."""
    return _type_name(value)


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
