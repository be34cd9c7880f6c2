"""Red-team of the precompiled schema checks (branch ``schemas``): nothing jsonschema refuses
may be accepted because a generated validator took the fast path.

- end to end: the one inversion the shipped schemas hold (a relative path ``not`` matching a
  ``..`` component, whose pattern ends in ``$``) still refuses ``a/..`` followed by a newline,
  which a fastjsonschema-style ``$`` -> ``\\Z`` rewrite would let through;
- the values YAML gives and JSON does not (dates, bytes, sets, tuples, keys that are numbers,
  booleans or null, NaN) and unicode look-alikes, at every place of the small shipped
  documents: the fast verdict never accepts what jsonschema refuses;
- the generator, on schemas it might be given later: the constructs whose meaning could
  differ are refused, and what it does precompile agrees with jsonschema on the look-alikes
  (True/1/1.0, final newlines, code points, property names needing escapes).
"""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import jsonschema
import pytest
from test_schema_check import CORPUS, KINDS, _mutate, _paths, _schema_of, load_generator

from pytest_deploygate.core import compiled_schemas
from pytest_deploygate.core.compiled_schemas import VALIDATORS
from pytest_deploygate.core.schema_check import checker_for, schema_digest

from conftest import CUSTOM_SPEC, GateProject

# --- end to end -----------------------------------------------------------------------------


def _write_spec_with_artifact_dir(project: GateProject, directory: str) -> None:
    criteria = "      - {id: c-1, text: One, check: {kind: state, path: phases}}"
    spec = CUSTOM_SPEC.format(criteria=criteria, rollback="")
    spec = spec.replace("phase: 12-production\n",
                        f"phase: 12-production\nartifact_dirs: [{json.dumps(directory)}]\n")
    (project.root / "gate_specs").mkdir(exist_ok=True)
    (project.root / "gate_specs" / "12-production.yaml").write_text(spec)


@pytest.mark.parametrize("directory", ["a/..\n", "..\n", "/etc\n", "C:\n"])
def test_a_path_escape_hidden_by_a_final_newline_is_refused(example: GateProject,
                                                            directory: str) -> None:
    _write_spec_with_artifact_dir(example, directory)
    result = example.run("--gate=12")
    assert result.ret != 0
    assert "12-production.yaml:6: artifact_dirs[0]:" in result.stdout.str()


def test_a_plain_relative_artifact_dir_is_accepted(example: GateProject) -> None:
    # The control: the spec above is otherwise valid, so the refusal is the path's.
    _write_spec_with_artifact_dir(example, "docs/a..b")
    result = example.run("--gate=12")
    assert "artifact_dirs" not in result.stdout.str()


# --- YAML's own values, everywhere in the small shipped documents ---------------------------

YAML_VALUES: list[Any] = [
    datetime.date(2030, 1, 1), datetime.datetime(2030, 1, 1),
    datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), b"abc", {1, 2}, ("a",),
    [("a", 1)], float("nan"), float("inf"), -0.0, {1: "x"}, {True: 1}, {None: 1},
    {"a": 1, 1: 2}, "\u0661\u0662", "x\u2028", "x\r", "\U0001F600", "GATE-\u0661\u0662",
    "12-production\r\n", [None], [[]], [{}], 2**63, 1e-300, ["qa"], ["qa", "Qa"],
    {"sha256": "ab" * 32}, "2026-01-02T03:04:05Z",
]


def _fast_accepts(name: str, document: Any) -> bool:
    try:
        VALIDATORS[schema_digest(_schema_of(name)) or ""](copy.deepcopy(document))
    except Exception:
        return False
    return True


def _rename_key(document: Any, path: tuple[Any, ...], key: Any) -> Any:
    """The key at ``path`` replaced by ``key`` (a number, a boolean, null: YAML allows them)."""
    document = copy.deepcopy(document)
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict):
        parent[key] = parent.pop(path[-1])
    return document


#: The small documents the repository holds valid examples of (each kind, the sign-off lines).
SMALL = sorted({n for n, d in CORPUS if n in {*KINDS, "attestation.schema.json",
                                              "waiver.schema.json", "approvers.schema.json"}
                and checker_for(_schema_of(n)).is_valid(d)})


@pytest.mark.parametrize("name", SMALL)
def test_yaml_values_never_pass_the_fast_path_alone(name: str) -> None:
    the_schema = _schema_of(name)
    slow = jsonschema.validators.validator_for(the_schema)(the_schema)
    documents = [d for n, d in CORPUS if n == name and checker_for(the_schema).is_valid(d)][:2]
    mutated = []
    for document in documents:
        for path in _paths(document):
            for value in YAML_VALUES:
                mutated += [_mutate(document, path, how, value) for how in (0, 2)]
            if path:
                mutated += [_rename_key(document, path, key) for key in (1, True, None, 1.5)]
    opened = [d for d in mutated if _fast_accepts(name, d) and not slow.is_valid(d)]
    assert opened == []
    assert any(_fast_accepts(name, d) for d in mutated)  # the fast path did run and accept


# --- the generator on schemas it may be given later -----------------------------------------

def _precompile(schema: dict[str, Any]) -> Any:
    """The generated validator of ``schema``, loaded beside the shipped ones."""
    generator = load_generator()
    root, functions = generator.compile_one("probe", generator.fast_safe(schema))
    namespace = dict(vars(compiled_schemas))
    namespace["REGEX_PATTERNS"] = compiled_schemas._Patterns()
    for source in functions.values():
        exec(source, namespace)
    return namespace[root]


PROBES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"properties": {"a'b": {"type": "string"}}}, [{"a'b": 1}]),
    ({"properties": {'a"b\\': {"type": "string"}}}, [{'a"b\\': 1}]),
    ({"properties": {"a\nb": {"type": "string"}, "{x}": {"type": "string"}}},
     [{"a\nb": 1}, {"{x}": 1}]),
    ({"properties": {"a-b": {"type": "string"}, "ab": {"type": "integer"}}},
     [{"a-b": 1, "ab": 1}, {"a-b": "x", "ab": "y"}]),
    ({"properties": {"x": {"type": "string"}, "x_": {"type": "string"}}}, [{"x_": 1}]),
    ({"not": {"pattern": "^a$"}}, ["a\n"]),
    ({"not": {"properties": {"x": {"pattern": "^a$"}}, "required": ["x"]}}, [{"x": "a\n"}]),
    ({"not": {"anyOf": [{"pattern": "(^|/)\\.\\.(/|$)"}]}}, ["a/..\n"]),
    ({"enum": [1, "a", None, 1.5]}, [True, False, 0, "b", 1.25]),
    ({"enum": [True, "b"]}, [1, 1.0, "a"]),
    ({"const": False}, [0, 0.0]),
    ({"const": 0}, [False]),
    ({"const": None}, [0, False, ""]),
    ({"uniqueItems": True}, [[1, 1.0], [{"a": [True]}, {"a": [True]}], [[1], [1.0]],
                             [{"a": 1, "b": 2}, {"b": 2, "a": 1}]]),
    ({"minLength": 2}, ["\U0001F600", "e"]),
    ({"maxLength": 1}, ["e\u0301"]),
    ({"type": "integer"}, [1.5, True, float("inf"), "1"]),
    ({"minimum": 0}, [-0.5, -(2**70)]),
    ({"exclusiveMaximum": 0}, [0, 0.0]),
    ({"oneOf": [{"type": "string"}, {"type": "string", "minLength": 1}]}, ["a"]),
    ({"propertyNames": {"maxLength": 2}}, [{"abc": 1}]),
    ({"propertyNames": {"not": {"const": "a"}}}, [{"a": 1}]),
    ({"additionalProperties": {"type": "string"}, "properties": {"a": True}},
     [{"a": 1, "b": 1}]),
    ({"type": "array", "items": {"type": "string"}}, [("a",), ["a", 1]]),
    ({"required": ["a"]}, [{"b": 1}, {1: 1}]),
    ({"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}},
     [{"x": 1}]),
    ({"properties": {"": {"type": "string"}, "$ref": {"type": "string"}}}, [{"": 1}, {"$ref": 1}]),
]


@pytest.mark.parametrize("index", range(len(PROBES)))
def test_what_the_generator_precompiles_refuses_what_jsonschema_refuses(index: int) -> None:
    schema, documents = PROBES[index]
    fast = _precompile(schema)
    slow = jsonschema.Draft202012Validator(schema)
    for document in documents:
        assert not slow.is_valid(document), document  # each probe is one jsonschema refuses
        with pytest.raises(Exception):  # noqa: B017 - any failure is a refusal
            fast(copy.deepcopy(document))


UNSAFE: list[dict[str, Any]] = [
    {"not": {"minimum": 1}},
    {"not": {"items": {"const": 1}}},
    {"not": {"enum": ["a", 1]}},
    {"not": {"const": True}},
    {"oneOf": [{"uniqueItems": True}, {"type": "string"}]},
    {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    {"not": {"properties": {"a": {"exclusiveMaximum": 1}}}},
    {"$defs": {"a": {"type": "string"}}, "not": {"$ref": "#/$defs/a"}},
    {"unevaluatedProperties": False},
    {"dependentRequired": {"a": ["b"]}},
    {"dependentSchemas": {"a": {"required": ["b"]}}},
    {"prefixItems": [{"type": "string"}]},
    {"contains": {"type": "string"}},
    {"properties": {"x": {"$id": "https://example.invalid/x"}}},
    {"properties": {"x": {"$anchor": "x"}}},
    {"$dynamicRef": "#x"},
    {"additionalItems": False},
    {"dependencies": {"a": ["b"]}},
    {"properties": {"x": {"pattern": "(?P<"}}},
    {"const": {"a": 1}},
    {"enum": [[1]]},
    {"type": "decimal"},
]


@pytest.mark.parametrize("index", range(len(UNSAFE)))
def test_the_generator_refuses_what_it_cannot_translate_exactly(index: int) -> None:
    generator = load_generator()
    with pytest.raises(generator.UnsafeSchema):
        generator.fast_safe(UNSAFE[index])
