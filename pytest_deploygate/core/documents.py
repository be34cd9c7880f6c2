"""Loading a YAML or JSON document and checking it against a shipped JSON Schema.

Every reviewed input (gate specs, the project config, the approvers file) goes through here,
so every one of them reports problems the same way: ``file:line: path.in[doc]: what is wrong``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.errors import SpecError
from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.schema_check import Checker, best_match, checker_for
from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8
from pytest_deploygate.core.yaml_refusals import (
    YAML_KINDS,
    escaped_control_characters,
    format_path,
    non_finite_numbers,
    non_json_values,
    non_text_keys,
)

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


#: How to read a bigger reviewed document: the refusal says it, so nobody has to search.
RAISE_DOCUMENT_LIMIT = ("to allow a bigger file, raise the pytest ini setting "
                        "deploygate_max_spec_size (bytes), e.g. -o "
                        "deploygate_max_spec_size=16777216")


def read_yaml_document(path: Path, max_bytes: int | None = None,
                       data: bytes | None = None) -> LoadedYaml:
    """Read and parse a YAML file, raising :class:`SpecError` with file and line.

    ``data``: the document's bytes, made in this process (an imported checklist), parsed as
    ``path``'s without reading the file, which someone may have replaced since it was written.
    """
    # A 50 MB spec is an attack, not a gate.
    max_bytes = max_bytes or DEFAULT_DOCUMENT_BYTES
    try:
        raw = read_regular_file(path, max_bytes) if data is None else data
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
    kind = YAML_KINDS.get(type(error.instance).__name__)
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
