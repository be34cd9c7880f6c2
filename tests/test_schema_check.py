"""Precompiled schema checks (issue 15): a valid document is checked without jsonschema, and
nothing either validator refuses is ever accepted.

- the generated module is what the generator writes today, and every schema the package ships
  has a validator in it (no shipped path silently falls back to the slow one);
- differential: on every document the repository and its tests hold, and on many mutations of
  them, "the precompiled validator accepts" implies "jsonschema accepts", and the checker
  refuses whatever either one refuses;
- a gate run and ``deploygate verdict`` on the bundled example never import jsonschema; a
  refused document still gets jsonschema's words.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_deploygate.checks import builtin_kinds
from pytest_deploygate.core.compiled_schemas import VALIDATORS
from pytest_deploygate.core.documents import schema
from pytest_deploygate.core.schema_check import Checker, checker_for, schema_digest
from pytest_deploygate.core.yaml_lines import load_yaml

from conftest import GateProject, custom_gate

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted(p.name for p in (REPO / "pytest_deploygate" / "schemas").glob("*.json"))
KINDS = {kind.name: kind.params_schema for kind in builtin_kinds()}


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("compile_schemas",
                                                  REPO / "tools" / "compile_schemas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the generated module ----------------------------------------------------------------

def test_the_generated_module_is_up_to_date() -> None:
    pytest.importorskip("fastjsonschema")
    generator = load_generator()
    assert generator.OUTPUT.read_text("utf-8") == generator.generate(), (
        "core/compiled_schemas.py is stale: run python tools/compile_schemas.py")


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_shipped_schema_is_precompiled(name: str) -> None:
    assert checker_for(schema(name)).precompiled


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_builtin_kind_is_precompiled(kind: str) -> None:
    assert checker_for(KINDS[kind]).precompiled


def test_an_edited_schema_is_not_found_and_goes_to_jsonschema() -> None:
    edited = copy.deepcopy(schema("waiver.schema.json"))
    edited["properties"]["justification"]["minLength"] = 50
    checker = checker_for(edited)
    assert not checker.precompiled
    line = {"gate": 12, "criterion": "a", "justification": "long enough for the old one",
            "expires": "2030-01-01T00:00:00Z", "run": True}
    assert checker_for(schema("waiver.schema.json")).is_valid(line)
    assert not checker.is_valid(line)
    assert [e.validator for e in checker.iter_errors(line)] == ["minLength"]


def test_the_generator_refuses_constructs_whose_meaning_could_differ() -> None:
    generator = load_generator()
    unsafe = [
        {"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a",
                                                                  "minLength": 2}}},
        {"properties": {"x": {"not": {"type": "number"}}}},
        {"oneOf": [{"minimum": 1}, {"type": "string"}]},
        {"properties": {"x": {"const": [1, True]}}},
        {"properties": {"x": {"enum": [{"a": 1}]}}},
        {"items": [{"type": "string"}]},
        {"if": {"type": "string"}, "then": {"minLength": 1}},
        {"properties": {"x": {"multipleOf": 0.1}}},
        {"$schema": "http://json-schema.org/draft-07/schema#"},
        {"properties": {"x": {"$ref": "https://example.invalid/s.json"}}},
        {"not": {"uniqueItems": True}},
    ]
    for document in unsafe:
        with pytest.raises(generator.UnsafeSchema):
            generator.fast_safe(document)
    # What is safe keeps its meaning: annotations go, assertions stay.
    safe = generator.fast_safe({"type": "string", "format": "date-time", "default": "x",
                                "description": "d", "pattern": "^a$"})
    assert safe == {"type": "string", "pattern": "^a$"}


def test_only_the_checker_imports_jsonschema() -> None:
    import ast

    importers = set()
    for path in sorted((REPO / "pytest_deploygate").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("jsonschema", "fastjsonschema") for n in names):
                importers.add(str(path.relative_to(REPO)))
    assert importers == {"pytest_deploygate/core/schema_check.py"}


# --- the checker's rule ---------------------------------------------------------------------

def refusing(message: str) -> Any:
    def validate(data: Any) -> Any:
        from pytest_deploygate.core.fast_schema_error import JsonSchemaValueException

        raise JsonSchemaValueException(message, name="data.items[1].name")
    return validate


def test_when_only_the_fast_validator_refuses_the_document_is_refused_with_its_words() -> None:
    plain = {"type": "object", "properties": {"items": {"type": "array"}}}
    checker = Checker(plain, refusing("data.items[1].name must match pattern ^x$"))
    document = {"items": [{"name": "a"}, {"name": "b"}]}
    assert not checker.is_valid(document)
    errors = list(checker.iter_errors(document))
    assert len(errors) == 1
    assert list(errors[0].absolute_path) == ["items", 1, "name"]
    assert errors[0].message == ("must match pattern ^x$ (refused by the precompiled schema "
                                 "check)")


def test_a_crash_of_the_fast_validator_is_a_refusal() -> None:
    def crash(data: Any) -> Any:
        raise TypeError("unhashable")

    checker = Checker({"type": "object"}, crash)
    assert not checker.is_valid({})
    assert [e.message for e in checker.iter_errors({})] == [
        "unhashable (refused by the precompiled schema check)"]


def test_when_both_refuse_the_words_are_jsonschemas() -> None:
    checker = checker_for(schema("approvers.schema.json"))
    assert checker.precompiled
    document = {"approvers": [{"email": "a@b", "roles": ["qa", "qa"]}]}
    assert [(list(e.absolute_path), e.validator) for e in checker.iter_errors(document)] == [
        (["approvers", 0, "roles"], "uniqueItems")]


# --- differential ---------------------------------------------------------------------------

def _yaml_files() -> Iterator[Path]:
    yield from sorted((REPO / "gate_specs").rglob("*.yaml"))
    yield from sorted((REPO / "examples").rglob("*.yaml"))


def _schema_for_file(relative: str) -> str | None:
    if relative.endswith("deploygate.yaml"):
        return "project-config.schema.json"
    if relative.endswith("approvers.yaml"):
        return "approvers.schema.json"
    if relative.endswith("attestations.jsonl"):
        return "attestation.schema.json"
    if relative.endswith("waivers.jsonl"):
        return "waiver.schema.json"
    if "gate_specs/" in relative and relative.endswith(".yaml"):
        return "gate-spec.schema.json"
    return None


def _documents_of(relative: str, text: str) -> Iterator[tuple[str, Any]]:
    name = _schema_for_file(relative)
    if name is None:
        return
    if relative.endswith(".jsonl"):
        for line in text.splitlines():
            try:
                yield name, json.loads(line)
            except ValueError:
                continue
        return
    try:
        data = load_yaml(text).data
    except Exception:
        return
    yield name, data
    if name == "gate-spec.schema.json":
        yield from _checks_in(data)


def _checks_in(value: Any) -> Iterator[tuple[str, Any]]:
    """Every ``{kind: ...}`` mapping of a spec, as a document of its kind's schema."""
    if isinstance(value, dict):
        if isinstance(value.get("kind"), str) and value["kind"] in KINDS:
            yield value["kind"], value
        for item in value.values():
            yield from _checks_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _checks_in(item)


def _shipped_documents() -> list[tuple[str, Any]]:
    """The repository's own specs, example config, approvers and sign-offs: all valid."""
    found: list[tuple[str, Any]] = []
    for path in _yaml_files():
        found.extend(_documents_of(str(path.relative_to(REPO)), path.read_text("utf-8")))
    for path in sorted(REPO.glob("examples/**/.deploygate/*.jsonl")):
        found.extend(_documents_of(str(path), path.read_text("utf-8")))
    return found


def _corpus() -> list[tuple[str, Any]]:
    """The shipped documents, the tests' bad-input corpus (mostly invalid), a predicate."""
    found = _shipped_documents()
    for path in sorted((REPO / "tests" / "corpus").glob("*.yaml")):
        case = load_yaml(path.read_text("utf-8")).data
        for key in ("write", "append"):
            for relative, text in (case.get(key) or {}).items():
                if isinstance(text, str):
                    found.extend(_documents_of(relative, text))
    found.append(("gate-decision-predicate.schema.json", VALID_PREDICATE))
    return found


VALID_PREDICATE: dict[str, Any] = {
    "gate": "GATE-12", "gate_number": 12, "title": "Production", "stage": "pre",
    "decision": "PASS", "waivers": 0,
    "rows": [{"id": "approvals", "title": "Approvals", "status": "PASS", "failing": []}],
    "expected_criteria": 1,
    "criteria": [{"id": "c-1", "testcase": "GATE-12::s::c-1", "role": "criterion",
                  "outcome": "met", "verdict": "PASS",
                  "junit": {"result": "passed", "type": None},
                  "evidence": [{"kind": "file", "ref": "reports/unit.xml",
                                "digest": {"sha256": "ab" * 32}}]}],
    "spec": {"source": "gate_specs/12-production.yaml", "sha256": "cd" * 32},
    "state": {"path": ".isdlc/state.json", "sha256": None},
    "release": {"project": "acme-api", "commit": "1" * 40, "tree": "2" * 40,
                "version": "1.4.0", "dirty": False},
    "evaluated_at": "2026-01-02T03:04:05Z",
    "plugin": {"name": "pytest-deploygate", "version": "0.1.0"},
    "record": {"name": "GATE-12-pre.xml", "sha256": "ef" * 32},
}
CORPUS = _corpus()


def _schema_of(name: str) -> Any:
    return KINDS[name] if name in KINDS else schema(name)


def agree(name: str, document: Any) -> None:
    """The precompiled verdict never accepts what jsonschema refuses, and the checker refuses
    what either refuses."""
    import jsonschema

    the_schema = _schema_of(name)
    fast = VALIDATORS[schema_digest(the_schema) or ""]
    try:
        fast(copy.deepcopy(document))
        fast_ok = True
    except Exception:
        fast_ok = False
    slow_ok = jsonschema.validators.validator_for(the_schema)(the_schema).is_valid(document)
    assert not (fast_ok and not slow_ok), f"fail-open on {name}: {document!r:.300}"
    checker = checker_for(the_schema)
    assert checker.is_valid(document) == (fast_ok and slow_ok)
    assert bool(list(checker.iter_errors(document))) == (not (fast_ok and slow_ok))


def test_the_corpus_covers_every_shipped_schema_and_most_kinds() -> None:
    names = {name for name, _ in CORPUS}
    assert set(SCHEMA_FILES) <= names
    assert len(names & set(KINDS)) >= 10, sorted(names & set(KINDS))
    # The repository's own documents are valid to both: the fast path is the one taken.
    shipped = _shipped_documents()
    assert len(shipped) > 100
    assert [(n, d) for n, d in shipped if not checker_for(_schema_of(n)).is_valid(d)] == []
    assert checker_for(_schema_of(CORPUS[-1][0])).is_valid(CORPUS[-1][1])


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_both_agree_on_every_document_of_the_repository(index: int) -> None:
    agree(*CORPUS[index])


#: Values that differ between validators in the wild: bool/int/float look-alikes, strings with
#: a final newline (``$``), empty and huge values, containers where scalars belong.
TRICKY: list[Any] = [True, False, 1, 0, -1, 1.0, 0.0, 1.5, 2**64, -(2**64), 1e308, 10**400,
                     "", "x", "x\n", "\n", "GATE-12\n", "12-production\n", "../x", "a/..\n",
                     "/abs", "C:x", "https://x\n", None, [], {}, [1, True], ["qa", "qa"],
                     [True, 1], [1, 1.0], {"threshold": "t"}, {"threshold": "t", "x": 1},
                     "1", "true", "null", "5m\n", "a@b\n", "0" * 64 + "\n"]


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*at, index))


def _mutate(document: Any, path: tuple[Any, ...], how: int, value: Any) -> Any:
    document = copy.deepcopy(document)
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    current = parent[last]
    if how == 0:  # replace
        parent[last] = value
    elif how == 1 and isinstance(parent, dict):  # delete (a required key, maybe)
        del parent[last]
    elif how == 2 and isinstance(current, dict):  # an extra key
        current["zz_extra"] = value
    elif how == 3 and isinstance(current, list) and current:  # a duplicate in an array
        current.append(copy.deepcopy(current[0]))
    elif how == 4 and isinstance(current, str):  # a final newline, a doubled string
        parent[last] = current + "\n"
    elif how == 5 and isinstance(current, bool):  # True -> 1
        parent[last] = int(current)
    elif how == 5 and isinstance(current, int) and abs(current) < 2**53:  # 1 -> 1.0
        parent[last] = float(current)
    elif how == 5 and isinstance(current, float) and current.is_integer():  # 1.0 -> 1
        parent[last] = int(current)
    elif how == 6 and isinstance(current, list):  # empty array
        parent[last] = []
    else:
        parent[last] = value
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_both_agree_on_mutated_documents(data: st.DataObject) -> None:
    name, document = data.draw(st.sampled_from(CORPUS))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = data.draw(st.sampled_from(paths))
        how = data.draw(st.integers(0, 6))
        value = data.draw(st.sampled_from(TRICKY))
        document = _mutate(document, path, how, value)
    agree(name, document)


@pytest.mark.parametrize("name", [*sorted(KINDS), "attestation.schema.json",
                                  "waiver.schema.json", "project-config.schema.json",
                                  "approvers.schema.json"])
def test_both_agree_on_every_single_mutation_of_the_small_documents(name: str) -> None:
    documents = [d for n, d in CORPUS if n == name][:3]
    for document in documents:
        for path in _paths(document):
            for how in range(7):
                for value in TRICKY:
                    agree(name, _mutate(document, path, how, value))


# --- through the public surface -------------------------------------------------------------

SYS_MODULES = '''
import sys

def pytest_unconfigure(config):
    with open("modules.txt", "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
'''


def test_a_gate_run_and_its_verdict_do_not_import_jsonschema(example: GateProject) -> None:
    example.git_init()
    example.pytester.makeconftest(SYS_MODULES)
    example.run_subprocess("--gate=12").assert_outcomes(passed=66, skipped=2)
    loaded = set((example.root / "modules.txt").read_text().split())
    assert "pytest_deploygate.core.compiled_schemas" in loaded  # the checks did run
    assert not {m for m in loaded if m.split(".")[0] in ("jsonschema", "fastjsonschema")}
    record = example.root / "gate-records" / "GATE-12.xml"
    wrapper = ("import runpy, sys\nsys.argv = ['deploygate', 'verdict', sys.argv[1]]\n"
               "try:\n    runpy.run_module('pytest_deploygate', run_name='__main__')\n"
               "finally:\n    print('MODULES', ' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", wrapper, str(record)], cwd=example.root,
                          capture_output=True, text=True)
    assert "PASS" in done.stdout, done.stdout + done.stderr
    modules = set(done.stdout.rsplit("MODULES", 1)[1].split())
    assert "pytest_deploygate.cli.verdict" in modules
    assert not {m for m in modules if m.split(".")[0] in ("jsonschema", "fastjsonschema")}


def test_a_refused_spec_still_gets_jsonschemas_words(example: GateProject) -> None:
    custom_gate(example, "- {id: C_2, text: Two, check: {kind: state, path: x}}")
    result = example.run("--gate=12")
    assert result.ret != 0
    assert ("12-production.yaml:16: sections[0].criteria[0].id: 'C_2' does not match "
            "'^[a-z0-9][a-z0-9-]*$'") in result.stdout.str()
    # A kind's parameters: 1 is not the const true (the fast path keeps True and 1 apart).
    custom_gate(example, "- {id: c-1, text: One, check: {kind: state, path: x, truthy: 1}}")
    result = example.run("--gate=12")
    assert result.ret != 0
    assert ("12-production.yaml:16: sections[0].criteria[0].check.truthy: state: True was "
            "expected") in result.stdout.str()
