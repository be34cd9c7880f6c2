"""Loading a YAML or JSON document and checking it against a shipped JSON Schema.

Every reviewed input (gate specs, the project config, the approvers file) goes through here,
so every one of them reports problems the same way: ``file:line: path.in[doc]: what is wrong``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.errors import SpecError
from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.schema_check import Checker, best_match, checker_for
from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8
from pytest_deploygate.core.yaml_model import LARGEST_FLOAT

if TYPE_CHECKING:
    # (YAML is imported when a YAML document is read: a signature check reads only JSON.)
    from pytest_deploygate.core.schema_check import ValidationError
    from pytest_deploygate.core.yaml_lines import LoadedYaml


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``pytest_deploygate/schemas``."""
    # The package's own folder (what importlib.resources gives for an installed package, which
    # costs more to import than reading the file).
    text = (Path(__file__).resolve().parents[1] / "schemas" / name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)  # our own schema files: each one an object
    return document


def _validator(name: str) -> Checker:
    # Precompiled for the shipped schemas: jsonschema loads only for a refused document.
    return checker_for(schema(name))


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


#: How to read a bigger reviewed document: the refusal says it, so nobody has to search.
RAISE_DOCUMENT_LIMIT = ("to allow a bigger file, raise the pytest ini setting "
                        "deploygate_max_spec_size (bytes), e.g. -o "
                        "deploygate_max_spec_size=16777216")


def read_yaml_document(path: Path, max_bytes: int | None = None) -> LoadedYaml:
    """Read and parse a YAML file, raising :class:`SpecError` with file and line."""
    # A 50 MB spec is an attack, not a gate.
    max_bytes = max_bytes or DEFAULT_DOCUMENT_BYTES
    try:
        raw = read_regular_file(path, max_bytes)
        text = decode_utf8(raw)
    except UnusableFile as exc:
        hint = f"; {RAISE_DOCUMENT_LIMIT}" if exc.over_limit else ": make it a regular file"
        raise SpecError([f"{path}:1: {exc.reason}{hint}"]) from None
    except NotUtf8 as exc:
        raise SpecError([f"{path}:{exc.line}: {exc.detail}"]) from None
    except OSError as exc:
        raise SpecError([f"{path}:1: cannot read: {exc.strerror or exc}"]) from None
    from pytest_deploygate.core.yaml_lines import YamlSyntaxError, load_yaml

    try:
        loaded = load_yaml(text)
    except YamlSyntaxError as exc:
        raise SpecError([f"{path}:{exc.line}: not valid YAML: {exc.detail}"]) from None
    if loaded.duplicate_keys:
        raise SpecError(
            [
                f"{path}:{line}: {format_path(key_path)}: key appears twice; keep one"
                for key_path, line in loaded.duplicate_keys
            ]
        )
    infinite = (non_finite_numbers(loaded, path) + non_text_keys(loaded, path)
                + non_json_values(loaded, path))
    if infinite:
        raise SpecError(infinite)
    # (Only an escape builds such a character: the reader refuses one in the text itself.)
    unprintable = escaped_control_characters(loaded, path) if "\\" in text else []
    if unprintable:
        raise SpecError(unprintable)
    loaded.source_sha256 = hashlib.sha256(raw).hexdigest()
    return loaded




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
_YAML_KINDS = {"int": "a number", "float": "a number", "bool": "true or false",
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
            kind = _YAML_KINDS.get(type(value).__name__, type(value).__name__)
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
    """``file:line: path: the key .nan is read as float, ...`` for every mapping key that is
    not text.

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
        if not isinstance(value, dict):
            continue
        for key in value:
            if len(problems) >= limit:
                break
            if type(key) is not str:
                line = loaded.line_of(at)
                kind = _YAML_KINDS.get(type(key).__name__, type(key).__name__)
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


def schema_problems(
    loaded: LoadedYaml, source: Path, schema_name: str, limit: int = 20
) -> list[str]:
    """Schema violations of a loaded document, one line each, sorted by line."""
    errors = sorted(
        _validator(schema_name).iter_errors(loaded.data),
        key=lambda e: (loaded.line_of(tuple(e.absolute_path)), list(map(str, e.absolute_path))),
    )
    problems = []
    for error in errors[:limit]:
        path = tuple(error.absolute_path)
        unknown = _unknown_keys(error)
        if unknown:
            # Each unknown key at its own line, so an editor jumps to the typo.
            allowed = ", ".join(sorted(_schema_of(error).get("properties", {})))
            for key in unknown:
                line = loaded.key_lines.get((*path, key)) or loaded.line_of((*path, key))
                problems.append(f"{source}:{line}: "
                                f"{format_path((*path, key))}: unknown key {key!r}; allowed "
                                f"here: {allowed}")
            continue
        problems.append(f"{source}:{loaded.line_of(path)}: {format_path(path)}: {_explain(error)}")
    if len(errors) > limit:
        problems.append(f"{source}: ... and {len(errors) - limit} more problems")
    return problems


def load_checked_yaml(path: Path, schema_name: str, scope: RunScope | None = None) -> LoadedYaml:
    """Read a YAML file and validate it, raising :class:`SpecError` listing every problem.

    Within a run (``scope``), results are kept per file version: a monorepo's projects share
    one deploygate.yaml and one approvers file, which are then read and validated once.
    Callers must not mutate the returned data.
    """
    from pytest_deploygate.core.yaml_lines import LoadedYaml

    scope = scope or RunScope()
    checked = scope.cache("checked-yaml")
    try:
        stat = path.stat()
        # The limit too: a document refused (or accepted) under another run's limit is
        # judged again under this one.
        key = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino, schema_name,
               scope.limits.document_bytes)
    except OSError:
        key = None
    if key is not None and key in checked:
        cached = checked[key]
        if isinstance(cached, SpecError):
            raise cached
        if isinstance(cached, LoadedYaml):  # the cache holds nothing else
            return cached
    try:
        loaded = read_yaml_document(path, scope.limits.document_bytes)
        problems = schema_problems(loaded, path, schema_name)
        if problems:
            raise SpecError(problems)
    except SpecError as exc:
        if key is not None:
            checked[key] = exc
        raise
    if key is not None:
        checked[key] = loaded
    return loaded


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    """The subschema an error is about (``true``/``false`` schemas have no keywords)."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _unknown_keys(error: ValidationError) -> list[str]:
    """The keys an ``additionalProperties: false`` error is about (empty for other errors)."""
    if error.validator != "additionalProperties" or error.validator_value is not False or \
            not isinstance(error.instance, Mapping):
        return []
    import re

    known = _schema_of(error).get("properties", {})
    patterns = [re.compile(p) for p in _schema_of(error).get("patternProperties", {})]
    return [str(k) for k in error.instance
            if k not in known and not any(p.search(str(k)) for p in patterns)]


def _explain(error: ValidationError) -> str:
    if error.validator == "not":
        description = _schema_of(error).get("description") or _parent_description(error)
        return f"{error.instance!r} is not allowed" + (f": {description}" if description else "")
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = best_match(error.context)
        if best.validator == "not":
            return _explain(best)
        described = _schema_of(error).get("description")
        return f"{_short(error.instance)} does not fit: {described or best.message}"
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(_schema_of(error).get("properties", {}))
        return f"{error.message}; allowed here: {', '.join(allowed)}"
    kind = _YAML_KINDS.get(type(error.instance).__name__)
    if error.validator == "type" and kind and "string" in _as_list(error.validator_value):
        # The message shows Python's value (1.1 for 1.10, True for yes): say what happened.
        return f"{error.message}; YAML read the unquoted value as {kind}: quote it"
    return error.message


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parent_description(error: ValidationError) -> str:
    for candidate in (error.parent,):
        if candidate is not None and isinstance(candidate.schema, Mapping):
            description = candidate.schema.get("description", "")
            return description if isinstance(description, str) else ""
    return ""


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
