"""What loading YAML gives: the data, the line of every value, and the bounds of a load.

Error messages must name the line of a spec, so the loader keeps a map from each value's path
inside the document (``("sections", 3, "criteria", 2, "check")``) to its 1-based line.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import math
import sys
from typing import Any

from pytest_deploygate.core.value_class import field, value_class

YamlPath = tuple[str | int, ...]

#: Nodes visited while mapping lines; aliases are not followed twice, so a "billion laughs"
#: document costs its own size, not its expansion.
MAX_NODES = 1_000_000
#: Values a document may expand to through anchors and aliases. Everything downstream
#: (schema validation, the gate) walks the expanded structure, so a "billion laughs" is refused
#: here, before it is built.
MAX_EXPANDED_VALUES = 2_000_000
#: Nesting depth of mappings and sequences. No reviewed document needs more than a dozen;
#: the readers after the load (schema checks, the spec's content hash) recurse per level, so
#: a deeper document is refused here, with its line, not by a RecursionError later.
MAX_DEPTH = 200


@value_class
class LoadedYaml:
    """A parsed YAML document with the line of every value."""

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[YamlPath, int]] = field(default_factory=list)
    #: The line of each mapping key (a value may start on a later line than its key).
    key_lines: dict[YamlPath, int] = field(default_factory=dict)
    #: SHA-256 of the bytes parsed (set by the file reader): what a spec's sha256 must name,
    #: never a second read of the file, which may have changed meanwhile.
    source_sha256: str = ""
    #: True when the one-pass reader built no NaN, no infinity and no integer a float cannot
    #: hold (:func:`~pytest_deploygate.core.yaml_refusals.non_finite_numbers` then has nothing to
    #: find); False when not known.
    finite_numbers: bool = field(default=False, repr=False)
    #: True when the one-pass reader read every mapping key as text
    #: (:func:`~pytest_deploygate.core.yaml_refusals.non_text_keys` then has nothing to find);
    #: False when not known.
    text_keys: bool = field(default=False, repr=False)
    #: True when the one-pass reader built no scalar JSON has not (a date, binary data)
    #: (:func:`~pytest_deploygate.core.yaml_refusals.non_json_values` then has nothing to find);
    #: False when not known.
    json_values: bool = field(default=False, repr=False)

    def line_of(self, path: YamlPath) -> int:
        """Line of the deepest known prefix of ``path`` (1 when nothing matches)."""
        line = self.lines.get(tuple(path))  # the usual case: the path itself is mapped
        if line is not None:
            return line
        for end in range(len(path) - 1, -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    """The text is not YAML; ``line`` and ``detail`` say where and why."""

    def __init__(self, line: int, detail: str) -> None:
        self.line = line
        self.detail = detail
        super().__init__(f"line {line}: {detail}")


#: The largest integer a float holds: a bigger one overflows when read as a number.
LARGEST_FLOAT = int(sys.float_info.max)


def is_finite_number(value: Any) -> bool:
    """False for a NaN, an infinity and an integer no float holds (True for anything else)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if type(value) is int:
        return -LARGEST_FLOAT <= value <= LARGEST_FLOAT
    return True


def expansion_problem() -> str:
    """Why a document expanding past :data:`MAX_EXPANDED_VALUES` is refused."""
    return (f"the document expands to more than {MAX_EXPANDED_VALUES} values through anchors "
            "and aliases; write it out without them")


def one_line(text: str) -> str:
    """PyYAML's multi-line messages on one line."""
    return " ".join(text.split())


#: What PyYAML's constructors raise for a value its tag cannot read (``!!int x``).
CONSTRUCTOR_CRASHES = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


#: Parts of a YAML 1.1 base-60 number (``1:30:00``). PyYAML builds one by multiplying once
#: per part, in time quadratic in its length: a 2 MiB ``1:0:0:...`` would take minutes.
MAX_BASE_60_PARTS = 8
_NUMBER_TAGS = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))


def base_60_problem(value: str, tag: str) -> str | None:
    """Why a number of too many base-60 parts is refused before it is built (else None)."""
    if tag in _NUMBER_TAGS and value.count(":") >= MAX_BASE_60_PARTS:
        return (f"a base-60 number of {value.count(':') + 1} parts; give at most "
                f"{MAX_BASE_60_PARTS} (or a plain number)")
    return None


def unreadable_value(value: str, tag: str) -> str:
    """Why a tagged scalar is refused (``'x' is not a valid !!int value``). A value is shown
    at most 60 characters long: a number of 5,000 digits (refused by int() past Python's
    4,300-digit limit) or a megabyte of text made the refusal a line as long."""
    shown = repr(value) if len(value) <= 60 else f"{value[:57]!r}... ({len(value)} characters)"
    return f"{shown} is not a valid {tag.replace('tag:yaml.org,2002:', '!!')} value"
