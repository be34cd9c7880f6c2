"""What a reviewed YAML document may hold: what JSON holds, and nothing that deceives.

Specs, deploygate.yaml and the approvers file are judged by JSON Schema and compared with JSON
values (state.json, the records), but YAML builds more: keys that are not text, dates, binary
data, sets and pairs, NaN and infinities, integers no float holds, control characters from
escapes. Each walk here names every such key or value with its file and line, so a document
is refused at load instead of passing a schema that never looks at it. The one-pass reader
notes while building whether it made any (``LoadedYaml.finite_numbers``, ``text_keys``,
``json_values``): a document without one is not walked again.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.yaml_model import LARGEST_FLOAT

if TYPE_CHECKING:
    from pytest_deploygate.core.yaml_lines import LoadedYaml


def format_path(path: Iterable[Any]) -> str:
    """``("sections", 3, "check")`` -> ``sections[3].check``. (A walked path may hold a key
    that is not text, any number among them: each part is shown by :func:`shown_key`.)"""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{shown_key(part)}]"
        else:
            text = part if type(part) is str else shown_key(part)
            out += f".{text}" if out else text
    return out or "(top level)"


def shown_key(key: Any) -> str:
    """A key or index as a refusal shows it, never a traceback nor a page: ``str()`` raises
    on an integer of more than 4,300 digits, which a hexadecimal key (``? 0xfff...``) or an
    alias of one builds, and an explicit ``? !!binary`` key may be a megabyte."""
    if type(key) is int and not -LARGEST_FLOAT <= key <= LARGEST_FLOAT:
        return f"<a number of {key.bit_length()} bits>"
    if key is None or type(key) is bool:  # as YAML writes them
        return "null" if key is None else str(key).lower()
    text = str(key)  # (a date as written, 2024-01-01; binary data as b'...')
    return text if len(text) <= 60 else text[:57] + "..."


def non_finite_numbers(loaded: LoadedYaml, source: Path, limit: int = 20) -> list[str]:
    """``file:line: path: .nan is not a finite number`` for every NaN or infinity (and every
    integer too large for a float).

    No reviewed input has a use for them, and a NaN threshold never breaches (every comparison
    with NaN is false), so a 43% error rate would pass a NaN bound: refused at load.
    """
    if loaded.finite_numbers:  # the one-pass reader built none (its data is not changed since)
        return []
    problems: list[tuple[int, str]] = []
    for at, value in _values(loaded.data):
        if len(problems) >= limit:
            break
        if isinstance(value, float) and not math.isfinite(value):
            line = loaded.line_of(at)
            problems.append((line, f"{source}:{line}: {format_path(at)}: {value} is not a "
                                   "finite number; give a number"))
        elif type(value) is int and not -LARGEST_FLOAT <= value <= LARGEST_FLOAT:
            # An integer no float holds (1 and 400 zeros, or YAML 1.1's base 60, 1:0:0:...,
            # which builds one past Python's 4300-digit parsing limit) crashes every reader
            # that formats or divides it; never printed here (str() refuses it).
            line = loaded.line_of(at)
            problems.append((line, f"{source}:{line}: {format_path(at)}: a number of "
                                   f"{value.bit_length()} bits is too large; give a number "
                                   "a float can hold"))
    return [text for _, text in sorted(problems)]


#: What YAML read an unquoted scalar as, for a refusal that names it (a key, or a value
#: where text is expected: ``version: 1.10`` is the number 1.1).
YAML_KINDS = {"int": "a number", "float": "a number", "bool": "true or false",
              "NoneType": "null", "date": "a date", "datetime": "a date and time",
              "bytes": "binary data", "set": "a set (!!set)",
              "tuple": "a pair of !!omap or !!pairs"}
#: What a value of a document JSON Schema can judge may be: anything else passed every schema
#: that does not name a type (``equals``, ``in``, a kind's own parameters) unseen.
_JSON_TYPES = frozenset((str, int, float, bool, type(None), dict, list))


def non_json_values(loaded: LoadedYaml, source: Path, limit: int = 20) -> list[str]:
    """``file:line: path: 2024-01-01 is read as a date, ...`` for every value no JSON
    document holds.

    Specs and deploygate.yaml are judged by JSON Schema and compared with JSON (state.json,
    the records). YAML reads an unquoted ``2024-01-01`` as a date and builds binary data,
    sets and ordered pairs from tags: no state value ever equals one, so ``not_equals:
    2024-01-01`` always held, while a reviewer reads a date as the text it shows. Refused at
    load, as a key that is not text is.
    """
    if loaded.json_values:  # the one-pass reader built none
        return []
    problems: list[tuple[int, str]] = []
    for at, value in _values(loaded.data):
        if len(problems) >= limit:
            break
        if type(value) not in _JSON_TYPES:
            kind = YAML_KINDS.get(type(value).__name__, type(value).__name__)
            if isinstance(value, set | tuple):
                said = f"YAML builds {kind} here, which no JSON document holds; write a list"
            elif isinstance(value, bytes):
                said = "!!binary builds binary data, which no JSON document holds; give text"
            else:
                said = (f"{shown_key(value)} is read as {kind}, which no JSON document "
                        "holds; quote it")
            line = loaded.line_of(at)
            problems.append((line, f"{source}:{line}: {format_path(at)}: {said}"))
    return [text for _, text in sorted(problems)]


def non_text_keys(loaded: LoadedYaml, source: Path, limit: int = 20) -> list[str]:
    """``file:line: path: the key nan is read as a number, ...`` for every mapping key that
    is not text.

    Every key of a spec or of deploygate.yaml is a name (JSON Schema knows no other key, so
    the schema checks never look at one that is not text). YAML reads an unquoted ``1``,
    ``.nan``, ``yes``, ``~`` or ``2024-01-01`` as a number, boolean, null or date: such a
    key was never the name the reader sees, and a setting under it (a threshold, a condition,
    an evidence override) would be ignored without a word. Refused at load instead.
    """
    if loaded.text_keys:  # the one-pass reader read every key as text
        return []
    problems: list[tuple[int, str]] = []
    for at, value in _values(loaded.data):
        if len(problems) >= limit:
            break
        if not isinstance(value, dict):
            continue
        for key in value:
            if len(problems) >= limit:
                break
            if type(key) is not str:
                line = loaded.line_of(at)
                kind = YAML_KINDS.get(type(key).__name__, type(key).__name__)
                problems.append((line, f"{source}:{line}: {format_path(at)}: the key "
                                       f"{shown_key(key)} is read as {kind}, not as a name; "
                                       "quote it"))
    return [text for _, text in sorted(problems)]


def _values(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every value of a loaded document with its path; a value an alias repeats is walked
    into once. (``!!omap`` and ``!!pairs`` build lists of tuples, ``!!set`` a set: walked
    too, so a NaN inside one is found even where no schema is asked about it.)"""
    seen: set[int] = set()
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        at, value = stack.pop()
        yield at, value
        if isinstance(value, dict | list | tuple | set) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*at, key), item) for key, item in items)


def escaped_control_characters(loaded: LoadedYaml, source: Path, limit: int = 20
                               ) -> list[str]:
    """``file:line: path: ... control character`` for every key or string holding a character
    YAML refuses in a document's text (NUL, ESC, the C0/C1 controls, ...) but builds from an
    escape in a double-quoted scalar (``"\\e[8m"``).

    Such a character has no use in a reviewed input, and each one is a way to deceive: an ESC
    sequence in a title hides what a terminal or CI log prints after it (a FAIL reads as the
    PASS written before it), a NUL makes the XML record unreadable.
    """
    from pytest_deploygate.core.printable import non_printable

    refused = non_printable()
    problems: list[tuple[int, str]] = []
    for at, value in _values(loaded.data):
        if len(problems) >= limit:
            break
        texts = [value] if isinstance(value, str) else \
            [key for key in value if isinstance(key, str)] if isinstance(value, dict) else []
        found = next(filter(None, map(refused.search, texts)), None)
        if found is not None:
            line = loaded.line_of(at)
            problems.append((line, f"{source}:{line}: {format_path(at)}: holds control "
                                   f"character {ord(found.group()):#06x} (an escape in a quoted "
                                   "string); remove it"))
    return [text for _, text in sorted(problems)]
