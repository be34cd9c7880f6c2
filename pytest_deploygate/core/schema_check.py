"""Checking a document against a JSON Schema: precompiled when we can, jsonschema when not.

Every schema check of the package goes through :func:`checker_for`. A schema the package
ships (``schemas/*.json``, each built-in kind's parameters) has a validator generated at
development time (``tools/compile_schemas.py`` -> ``core/compiled_schemas.py``), found by the
SHA-256 of the schema's canonical JSON: a schema edited since the generation, or a third-party
kind's, is not in the table and is checked by jsonschema exactly as before.

The rule is fail closed, and jsonschema stays the authority on messages:

- the precompiled validator accepts -> valid, and jsonschema is never imported (it costs more
  than the rest of a gate's start-up);
- it refuses -> jsonschema's errors, word for word as without the fast path;
- it refuses and jsonschema finds nothing (the two disagree) -> refused anyway, with one error
  made from the precompiled validator's message. Nothing either one refuses is accepted.

The generator only precompiles schemas whose keywords it knows to mean the same in both
(see ``tools/compile_schemas.py``), and the tests compare the two on many documents.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported only when a document is refused
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["Checker", "ValidationError", "best_match", "checker_for", "schema_digest",
           "validator_code_digest"]

#: A precompiled validator: returns when the document fits, raises when it does not.
FastValidator = Callable[[Any], Any]


def _canonical(schema: Any) -> str | None:
    try:
        return json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None


def schema_digest(schema: Any) -> str | None:
    """SHA-256 of the schema's canonical JSON, the key of the precompiled table (None: the
    schema is not JSON, so nothing can have been precompiled for it)."""
    text = _canonical(schema)
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


class Checker:
    """One schema's check: :meth:`is_valid` and :meth:`iter_errors`, both fail closed."""

    def __init__(self, schema: Mapping[str, Any], fast: FastValidator | None) -> None:
        self.schema = schema
        self.precompiled = fast is not None
        self._fast = fast
        self._slow: Validator | None = None

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` fits; no error messages, so no jsonschema when precompiled."""
        if self._fast is not None:
            return self._fast_refusal(instance) is None
        return self._jsonschema().is_valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """jsonschema's errors for ``instance`` (none when it fits), as jsonschema words them."""
        if self._fast is None:
            yield from self._jsonschema().iter_errors(instance)
            return
        refusal = self._fast_refusal(instance)
        if refusal is None:
            return
        found = False
        for error in self._jsonschema().iter_errors(instance):
            found = True
            yield error
        if not found:  # the two disagree: refuse anyway, in the fast validator's words
            yield _disagreement(refusal, instance)

    def _fast_refusal(self, instance: Any) -> BaseException | None:
        assert self._fast is not None
        try:
            self._fast(instance)
        except Exception as exc:  # any failure of the fast path is a refusal, never a pass
            return exc
        return None

    def _jsonschema(self) -> Validator:
        if self._slow is None:
            import jsonschema

            self._slow = jsonschema.validators.validator_for(self.schema)(self.schema)
        return self._slow


#: Checkers by schema object. The schema is kept beside its checker and compared by identity:
#: an id alone could be reused by another schema once the first is gone.
_CHECKERS: dict[int, tuple[Mapping[str, Any], Checker]] = {}


def checker_for(schema: Mapping[str, Any]) -> Checker:
    """The checker of ``schema`` (treated as immutable once asked for)."""
    cached = _CHECKERS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    from pytest_deploygate.core.compiled_schemas import VALIDATORS

    text = _canonical(schema)
    fast = None if text is None else \
        VALIDATORS.get(hashlib.sha256(text.encode("utf-8")).hexdigest())
    # With a precompiled validator, jsonschema gets the very content that was hashed, so the
    # two judge the same schema even if the caller's object is changed later.
    checker = Checker(schema if fast is None or text is None else json.loads(text), fast)
    _CHECKERS[id(schema)] = (schema, checker)
    return checker


@functools.cache
def validator_code_digest() -> str:
    """SHA-256 of the code that decides validity (this module and the precompiled
    validators): whatever remembers "this document passed" must name it, so that a fix of
    that code is not outlived by what the unfixed code accepted."""
    digest = hashlib.sha256()
    for name in (__file__, Path(__file__).with_name("compiled_schemas.py")):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def best_match(errors: Iterable[ValidationError]) -> ValidationError:
    """jsonschema's pick of the most relevant error (for ``anyOf``/``oneOf`` failures)."""
    import jsonschema

    best: ValidationError = jsonschema.exceptions.best_match(errors)
    return best


def _disagreement(refusal: BaseException, instance: Any) -> ValidationError:
    """One error saying what the precompiled validator refuses, placed where it says."""
    import jsonschema

    name = getattr(refusal, "name", None)
    message = str(getattr(refusal, "message", "") or refusal) or type(refusal).__name__
    path: tuple[str | int, ...] = ()
    if isinstance(name, str):
        path = _path_named(instance, name) or ()
        if message.startswith(name + " "):
            message = message[len(name) + 1:]
    return jsonschema.exceptions.ValidationError(
        f"{message[:200]} (refused by the precompiled schema check)",
        validator="precompiled", path=path, instance=getattr(refusal, "value", instance))


def _path_named(instance: Any, name: str) -> tuple[str | int, ...] | None:
    """The path whose fastjsonschema name (``data.a[0].b``) is ``name``: the name alone is
    ambiguous when keys hold dots or brackets, so the document is searched for it."""
    stack: list[tuple[tuple[str | int, ...], str, Any]] = [((), "data", instance)]
    while stack:
        path, spelled, value = stack.pop()
        if spelled == name:
            return path
        if isinstance(value, dict):
            children: Iterable[tuple[str | int, str, Any]] = (
                (key, f"{spelled}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            children = ((index, f"{spelled}[{index}]", item) for index, item in enumerate(value))
        else:
            continue
        stack.extend(((*path, key), child, item) for key, child, item in children
                     if name.startswith(child))
    return None
