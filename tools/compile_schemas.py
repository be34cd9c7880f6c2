"""Generate ``pytest_deploygate/core/compiled_schemas.py``: precompiled validators for every
JSON Schema the package ships (``schemas/*.json``) and every built-in check kind's parameters.

    python tools/compile_schemas.py          # (re)write the module
    python tools/compile_schemas.py --check  # exit 1 when the module is not up to date

Why generated code, and why fastjsonschema writes it (as setuptools/validate-pyproject do):
jsonschema's import (with referencing, attrs, rpds) and its general-purpose validation were
the largest fixed cost of a gate run and of ``deploygate verdict``. fastjsonschema turns a
schema into straight-line Python with no dependencies; hand-written checks would be a second
copy of every schema to keep in step by hand, with its own mistakes, while these are
regenerated from the schemas and keyed by their content (``schema_check.schema_digest``), so
a stale module can never check a document against the wrong schema: an edited schema is
simply not in the table and falls back to jsonschema.

fastjsonschema implements draft 7; our schemas say draft 2020-12, and jsonschema stays the
authority. So a schema is precompiled only when every keyword in it is one whose meaning is
the same in both (``fast_safe``), and the generated code is post-processed where
fastjsonschema deliberately differs:

- ``pattern``: fastjsonschema turns ``$`` into ``\\Z``; jsonschema uses Python's ``re.search``
  with the pattern as written (``$`` also matches before a final newline). Stricter alone, but
  under ``not`` a stricter inner pattern accepts more, so the patterns are compiled as written;
- arrays: fastjsonschema takes a tuple for ``type: array``, jsonschema only a list;
- ``format``, ``default``: jsonschema (without a format checker) treats them as annotations,
  fastjsonschema asserts formats and fills in defaults (mutating the document): stripped;
- ``$ref`` with sibling keywords: draft 7 ignores the siblings, 2020-12 applies them: refused;
- ``const``/``enum``: only scalars (fastjsonschema's matcher keeps ``True`` and ``1`` apart
  for scalars, as jsonschema does); containers are refused;
- anything not listed (``if``, ``contains``, ``multipleOf``, ``$dynamicRef``, ...): refused.

The ``definition=`` dict fastjsonschema inlines in every ``raise`` is dropped (it made the
module several times bigger and slower to import), and the code raises our own exception
(``core/fast_schema_error.py``): fastjsonschema is a development dependency only.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_deploygate.core.schema_check import schema_digest  # noqa: E402

OUTPUT = ROOT / "pytest_deploygate" / "core" / "compiled_schemas.py"
SCHEMAS = ROOT / "pytest_deploygate" / "schemas"

#: Keywords jsonschema only annotates with (no format checker is configured): dropped.
ANNOTATIONS = {"description", "title", "$comment", "examples", "default", "format",
               "deprecated", "readOnly", "writeOnly"}
#: Keywords whose value is one subschema.
ONE_SCHEMA = {"additionalProperties", "propertyNames", "items", "not"}
#: Keywords whose value maps names to subschemas.
NAMED_SCHEMAS = {"properties", "patternProperties", "$defs"}
#: Keywords whose value is a list of subschemas.
LISTED_SCHEMAS = {"anyOf", "allOf", "oneOf"}
#: Number-valued assertions (bools excluded from the instances by both implementations).
NUMBER_BOUNDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
COUNT_BOUNDS = {"minLength", "maxLength", "minItems", "maxItems", "minProperties",
                "maxProperties"}
TYPES = {"string", "integer", "number", "object", "array", "boolean", "null"}
LOCAL_REF = re.compile(r"^#/\$defs/([A-Za-z0-9_-]+)$")


class UnsafeSchema(Exception):
    """The schema uses something whose meaning could differ: it is not precompiled."""


def shipped_schemas() -> list[tuple[str, dict[str, Any]]]:
    """(label, schema) for every shipped schema file and built-in kind, without repeats."""
    from pytest_deploygate.checks import builtin_kinds

    found = [(f"schema {path.name}", json.loads(path.read_text("utf-8")))
             for path in sorted(SCHEMAS.glob("*.json"))]
    found += [(f"kind {kind.name}", dict(kind.params_schema)) for kind in builtin_kinds()]
    unique: dict[str, tuple[str, dict[str, Any]]] = {}
    for label, schema in found:
        unique.setdefault(schema_digest(schema) or "", (label, schema))
    return list(unique.values())


def fast_safe(schema: Any) -> Any:
    """A copy of ``schema`` with annotations dropped; :class:`UnsafeSchema` for anything whose
    meaning fastjsonschema and jsonschema (2020-12) might not share."""
    if not isinstance(schema, dict):
        raise UnsafeSchema("the top level is not an object")
    top = {key: value for key, value in schema.items() if key not in ("$schema", "$id")}
    draft = schema.get("$schema", "https://json-schema.org/draft/2020-12/schema")
    if draft != "https://json-schema.org/draft/2020-12/schema":
        raise UnsafeSchema(f"$schema {draft!r} (only 2020-12 is precompiled)")
    defs = top.get("$defs", {})
    return _safe(top, "", defs if isinstance(defs, dict) else {})


#: Under ``not`` and ``oneOf`` a stricter fast verdict turns into a looser one (a branch
#: refused by the fast validator only makes ``not`` accept, or makes ``oneOf`` count one match
#: instead of two). There, only keywords whose fast code is exactly jsonschema's are allowed:
#: no numbers (fastjsonschema refuses Decimal and Fraction, which jsonschema takes), no
#: ``uniqueItems`` and no ``$ref`` (whose target is checked without this rule).
EXACT_KEYWORDS = {"required", "pattern", "minLength", "maxLength", "minItems", "maxItems",
                  "minProperties", "maxProperties", "properties", "patternProperties",
                  "additionalProperties", "propertyNames", "items", "anyOf", "allOf", "oneOf",
                  "not", "type", "const", "enum"}
INVERTING = {"not", "oneOf"}


def _safe(schema: Any, at: str, defs: dict[str, Any], inverted: bool = False) -> Any:
    if isinstance(schema, bool):
        return schema
    if inverted and isinstance(schema, dict):
        loose = set(schema) - ANNOTATIONS - EXACT_KEYWORDS
        types = schema.get("type", [])
        if loose or {"number", "integer"} & set(types if isinstance(types, list) else [types]) \
                or any(not isinstance(v, str) for v in schema.get("enum", [])) \
                or not isinstance(schema.get("const", ""), str):
            raise UnsafeSchema(f"{at}: under not/oneOf only exact keywords are precompiled "
                               f"(found {sorted(set(schema) - ANNOTATIONS)})")
    if not isinstance(schema, dict):
        raise UnsafeSchema(f"{at or '(top)'}: a schema must be an object or a boolean")
    if "$ref" in schema:
        ref = schema["$ref"]
        match = LOCAL_REF.match(ref) if isinstance(ref, str) else None
        if match is None or match.group(1) not in defs:
            raise UnsafeSchema(f"{at}: $ref {ref!r} is not a local #/$defs/ name")
        siblings = set(schema) - ANNOTATIONS - {"$ref"}
        if siblings:  # draft 7 ignores them, 2020-12 applies them
            raise UnsafeSchema(f"{at}: $ref beside {sorted(siblings)}")
        return {"$ref": ref}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        where = f"{at}/{key}"
        if key in ANNOTATIONS:
            continue
        if key in ONE_SCHEMA:
            if key == "items" and not isinstance(value, dict | bool):
                raise UnsafeSchema(f"{where}: items as a list (draft 7 tuples)")
            out[key] = _safe(value, where, defs, inverted or key in INVERTING)
        elif key in NAMED_SCHEMAS:
            if not isinstance(value, dict):
                raise UnsafeSchema(f"{where}: not an object")
            if key == "patternProperties":
                for pattern in value:
                    _check_pattern(pattern, where)
            out[key] = {name: _safe(sub, f"{where}/{name}", defs, inverted and key != "$defs")
                        for name, sub in value.items()}
        elif key in LISTED_SCHEMAS:
            if not isinstance(value, list) or not value:
                raise UnsafeSchema(f"{where}: not a non-empty list")
            out[key] = [_safe(sub, f"{where}/{n}", defs, inverted or key in INVERTING)
                        for n, sub in enumerate(value)]
        elif key == "type":
            names = value if isinstance(value, list) else [value]
            if not names or any(name not in TYPES for name in names):
                raise UnsafeSchema(f"{where}: {value!r}")
            out[key] = copy.deepcopy(value)
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UnsafeSchema(f"{where}: not a list of names")
            out[key] = list(value)
        elif key in NUMBER_BOUNDS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UnsafeSchema(f"{where}: not a number")
            out[key] = value
        elif key in COUNT_BOUNDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UnsafeSchema(f"{where}: not a count")
            out[key] = value
        elif key == "uniqueItems":
            if not isinstance(value, bool):
                raise UnsafeSchema(f"{where}: not a boolean")
            out[key] = value
        elif key == "pattern":
            _check_pattern(value, where)
            out[key] = value
        elif key == "const":
            _check_scalar(value, where)
            out[key] = value
        elif key == "enum":
            if not isinstance(value, list) or not value:
                raise UnsafeSchema(f"{where}: not a non-empty list")
            for item in value:
                _check_scalar(item, where)
            out[key] = list(value)
        else:
            raise UnsafeSchema(f"{where}: keyword {key!r} is not precompiled")
    return out


def _check_pattern(pattern: Any, where: str) -> None:
    if not isinstance(pattern, str):
        raise UnsafeSchema(f"{where}: pattern {pattern!r} is not a string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UnsafeSchema(f"{where}: pattern {pattern!r}: {exc}") from None


def _check_scalar(value: Any, where: str) -> None:
    # Both compare scalars alike (True apart from 1, 1 equal to 1.0); containers could differ.
    if value is not None and not isinstance(value, str | bool | int | float):
        raise UnsafeSchema(f"{where}: {value!r} is not a string, number, boolean or null")
    if isinstance(value, float) and value != value:
        raise UnsafeSchema(f"{where}: NaN")


def _map_subschemas(schema: Any, visit: Any) -> Any:
    """``schema`` with each direct subschema replaced by ``visit(subschema)``."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ONE_SCHEMA:
            out[key] = visit(value)
        elif key in NAMED_SCHEMAS:
            out[key] = {name: visit(sub) for name, sub in value.items()}
        elif key in LISTED_SCHEMAS:
            out[key] = [visit(sub) for sub in value]
        else:
            out[key] = value
    return out


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


#: A subschema repeated this long (canonical JSON characters) or longer becomes one shared
#: function instead of inline code at every use (e.g. "a number or {threshold: NAME}").
SHARED_MIN_CHARS = 100


def hoist_shared(schemas: list[Any]) -> list[Any]:
    """The schemas with every subschema that occurs more than once (in any of them) moved to
    ``$defs/_shared_<digest>`` and referenced: the same checks, written once."""
    counts: dict[str, int] = {}

    def count(sub: Any) -> Any:
        text = _canonical(sub)
        if isinstance(sub, dict) and len(text) >= SHARED_MIN_CHARS and '"$ref"' not in text:
            counts[text] = counts.get(text, 0) + 1
        return _map_subschemas(sub, count)

    for schema in schemas:
        _map_subschemas(schema, count)
    shared = {text: f"_shared_{hashlib.sha256(text.encode()).hexdigest()[:10]}"
              for text, seen in counts.items() if seen > 1}

    def replace(sub: Any) -> Any:
        name = shared.get(_canonical(sub))
        return {"$ref": f"#/$defs/{name}"} if name else _map_subschemas(sub, replace)

    out = []
    for schema in schemas:
        result = _map_subschemas(schema, replace)
        defs = dict(result.get("$defs", {}))
        for _ in range(len(shared) + 1):  # the shared schemas' own shared parts, to the end
            used = set(re.findall(r'"#/\$defs/(_shared_[0-9a-f]+)"', _canonical([result, defs])))
            missing = used - set(defs)
            if not missing:
                break
            by_name = {name: json.loads(text) for text, name in shared.items()}
            for name in missing:
                defs[name] = _map_subschemas(by_name[name], replace)
        if defs:
            result["$defs"] = defs
        out.append(result)
    return out


class _Rewrite(ast.NodeTransformer):
    """Our names, our exception, list-only arrays, no ``definition=``, typed signatures."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            return ast.copy_location(ast.Name(self.names[node.id], node.ctx), node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.name = self.names.get(node.name, node.name)
        any_type = ast.Name("Any", ast.Load())
        for arg in node.args.args:
            arg.annotation = any_type
        node.returns = any_type
        node.args.defaults = [ast.Constant(None) if isinstance(d, ast.Dict) else d
                              for d in node.args.defaults]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "JsonSchemaValueException":
            return _compact_raise(node)
        if isinstance(node.func, ast.Name) and node.func.id == "isinstance" and \
                len(node.args) == 2 and isinstance(node.args[1], ast.Tuple):
            # jsonschema: an array is a list, never a tuple. Decimal: not a type JSON or YAML
            # gives; refused here it is refused (or, if jsonschema takes it, refused by the
            # disagreement rule), and importing decimal would cost more than the check.
            kept = [e for e in node.args[1].elts if getattr(e, "id", None) not in
                    ("tuple", "Decimal")]
            node.args[1] = kept[0] if len(kept) == 1 else ast.Tuple(kept, ast.Load())
        return node


def _compact_raise(node: ast.Call) -> ast.expr:
    """``JsonSchemaValueException("" + (name_prefix or "data") + ".a must be x", value=...,
    name=..., definition={...}, rule="type")`` -> ``_refusal(name_prefix, ".a must be x",
    "type")``: a third of the size. The name is the message's start, so the place is not lost
    (``schema_check`` finds it in the document)."""
    operands: list[ast.expr] = []
    message = node.args[0] if node.args else None
    while isinstance(message, ast.BinOp) and isinstance(message.op, ast.Add):
        operands.insert(0, message.right)
        message = message.left
    if message is not None:
        operands.insert(0, message)
    rule = next((k.value for k in node.keywords if k.arg == "rule"), ast.Constant(None))
    if len(operands) < 3 or not (isinstance(operands[0], ast.Constant) and operands[0].value == ""
                                 and ast.unparse(operands[1]) == "name_prefix or 'data'"):
        raise UnsafeSchema(f"unexpected exception message {ast.unparse(node)[:80]}")
    rest = operands[2]
    for operand in operands[3:]:
        rest = ast.BinOp(rest, ast.Add(), operand)
    return ast.Call(ast.Name("_refusal", ast.Load()), [ast.Name("name_prefix", ast.Load()), rest,
                                                         rule], [])


def compile_one(label: str, safe: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(root function name, function sources by name) of one fast-safe schema."""
    import fastjsonschema

    code = fastjsonschema.compile_to_code(safe, use_default=False, use_formats=False)
    tree = ast.parse(code)
    base = "_" + re.sub(r"[^a-z0-9]+", "_", label.lower().removesuffix(".schema.json")).strip("_")
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    names: dict[str, str] = {}
    for function in functions:
        suffix = function.name.removeprefix("validate").strip("_")
        shared = re.fullmatch(r"defs__(_shared_[0-9a-f]+)", suffix)
        names[function.name] = shared.group(1) if shared else \
            f"{base}__{suffix}" if suffix else base
    if len(set(names.values())) != len(names) or base not in names.values():
        raise UnsafeSchema(f"{label}: cannot name its functions apart")
    rewrite = _Rewrite(names)
    sources = {names[function.name]: ast.unparse(ast.fix_missing_locations(
        rewrite.visit(function))) for function in functions}
    return base, sources


HEADER = '''\
# GENERATED by tools/compile_schemas.py with fastjsonschema {version}: do not edit; run
# `python tools/compile_schemas.py` after changing a schema or a built-in kind's parameters.
# ruff: noqa
"""Precompiled validators of the shipped schemas, keyed by the SHA-256 of each schema's
canonical JSON (see ``core/schema_check.py``, which owns the rules for using them).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pytest_deploygate.core.fast_schema_error import (
    JsonSchemaValueException,
    JsonSchemaValuesException,
)

NoneType = type(None)


def _refusal(name_prefix: str | None, rest: str, rule: str | None) -> JsonSchemaValueException:
    return JsonSchemaValueException((name_prefix or "data") + rest, rule=rule)


class _Patterns(dict[str, "re.Pattern[str]"]):
    """Each pattern compiled on first use (compiling them all would cost the import more than
    a gate run's checks), and as written: jsonschema's ``pattern`` is ``re.search`` of the
    pattern as written (fastjsonschema's own code turns ``$`` into an end-of-text anchor)."""

    def __missing__(self, pattern: str) -> re.Pattern[str]:
        compiled = self[pattern] = re.compile(pattern)
        return compiled


REGEX_PATTERNS = _Patterns()
'''


def generate() -> str:
    """The module's text."""
    import fastjsonschema

    roots: list[tuple[str, str, str]] = []
    sources: dict[str, str] = {}
    shipped = shipped_schemas()
    try:
        safe = hoist_shared([fast_safe(schema) for _, schema in shipped])
        for (label, schema), fast in zip(shipped, safe, strict=True):
            root, functions = compile_one(label, fast)
            for name, source in functions.items():
                if sources.setdefault(name, source) != source:
                    raise UnsafeSchema(f"{name} generated twice, differently")
            roots.append((schema_digest(schema) or "", root, label))
    except UnsafeSchema as exc:
        raise SystemExit(f"not precompiled: {exc}") from None
    lines = [HEADER.format(version=fastjsonschema.VERSION)]
    lines.extend(f"\n\n{source}\n" for source in sources.values())
    lines.append("\n\n#: sha256 of the schema's canonical JSON -> its validator.\n"
                 "VALIDATORS: dict[str, Callable[[Any], Any]] = {\n")
    lines.extend(f"    {digest!r}: {root},  # {label}\n" for digest, root, label in roots)
    lines.append("}\n")
    return "".join(lines)


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        if OUTPUT.read_text("utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python "
                  "tools/compile_schemas.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
