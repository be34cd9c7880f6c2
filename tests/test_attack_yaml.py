"""Red team on the YAML loader: documents a release engineer writes so that the reviewer
reads one thing and the gate uses another.

The one-pass loader (``core/yaml_events``) and the node path it falls back to
(``core/yaml_nodes``) agree with each other and with PyYAML on every tricky document tried
(aliased, tagged, null and complex keys, merge keys, ``%TAG`` prefixes, several documents,
self-references, expansion); what is left here are holes both paths shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_deploygate.core import yaml_events, yaml_nodes
from pytest_deploygate.core.documents import read_yaml_document
from pytest_deploygate.core.errors import SpecError
from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
from pytest_deploygate.core.yaml_lines import YamlSyntaxError, load_yaml

from conftest import GateProject

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])
LOADER_IDS = [loader.__name__ for loader in LOADERS]

#: Forces the node path (a merge key) without changing the data that matters.
NODE_PATH = "base: &base {x: 1}\nmerged: {<<: *base}\n"


# -- a repeated key after the line map's budget -----------------------------------------------

def _padded(values: int, tail: str) -> str:
    """``values`` values in a flow list (2 bytes each), then ``tail``."""
    return "pad: [" + ",".join(["0"] * values) + "]\n" + tail


def test_a_repeated_key_past_a_million_values_is_refused_at_the_default_size_limit(
        tmp_path: Path) -> None:
    """A million values fit in the default 2 MiB (two bytes each): the line map stops there,
    and so did the duplicate-key check, so a mapping opened after the padding could say
    ``check`` twice, the reviewer reading the first and the gate using the second."""
    text = _padded(1_000_000, "late: {max_error_rate: 0.01, max_error_rate: 0.5}\n")
    assert len(text.encode()) < DEFAULT_DOCUMENT_BYTES  # the attack needs no bigger limit
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as refused:
        read_yaml_document(path)
    assert "late.max_error_rate: key appears twice" in str(refused.value)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("prefix", ["", NODE_PATH], ids=["one-pass", "node-path"])
@pytest.mark.parametrize(("tail", "key"), [
    ("late: {k: strict, k: loose}\n", "k"),
    ("late:\n  - {id: a, check: strict}\n  - {id: b, check: x, check: loose}\n", "check"),
    ("anchored: &m {k: strict, k: loose}\nagain: *m\n", "k"),
], ids=["flow-map", "in-a-list", "anchored"])
def test_a_repeated_key_past_the_line_budget_is_still_found(
        monkeypatch: pytest.MonkeyPatch, loader: type[Any], prefix: str, tail: str,
        key: str) -> None:
    """The budget bounds the line map (a "billion laughs" of aliased keys), never the
    duplicate-key check: every mapping of the document is checked once."""
    monkeypatch.setattr(yaml_events, "MAX_NODES", 50)
    monkeypatch.setattr(yaml_nodes, "MAX_NODES", 50)
    loaded = load_yaml(prefix + _padded(60, tail), loader)
    assert loaded.duplicate_keys, "a repeated key past the budget went unnoticed"
    assert loaded.duplicate_keys[0][0][-1] == key


# -- keys that differ in text but not in value -------------------------------------------------

@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("pair", [("1", "0x1"), ("true", "yes"), ("~", "null"),
                                  ("1", "1.0"), ("1", "true"), (".nan", ".NaN"),
                                  ("2001-12-14", "!!timestamp 2001-12-14")])
@pytest.mark.parametrize("prefix", ["", NODE_PATH], ids=["one-pass", "node-path"])
def test_keys_equal_once_read_are_duplicates(loader: type[Any], pair: tuple[str, str],
                                             prefix: str) -> None:
    """Under ``reports`` or ``prometheus.queries`` of deploygate.yaml (any key allowed) the
    reviewer sees two entries and the gate keeps one. Both paths compared keys by their text
    only (PyYAML's node value)."""
    first, second = pair
    loaded = load_yaml(f"{prefix}queries:\n  {first}: strict\n  {second}: loose\n", loader)
    assert len(loaded.data["queries"]) == 1  # what the gate gets
    assert loaded.duplicate_keys, f"{first!r} and {second!r} collapsed without a refusal"


# -- a number too large for a float -------------------------------------------------------------

HUGE_NUMBERS = {
    "digits": "1" + "0" * 400,  # under Python's 4300-digit parsing limit, over a float's
    "base-60": "1" + "0" * 400 + ":0:0",  # YAML 1.1 sexagesimal, within its parts bound
}


@pytest.mark.parametrize("number", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
def test_an_integer_too_large_for_a_float_is_refused_with_its_line(
        tmp_path: Path, number: str) -> None:
    path = tmp_path / "deploygate.yaml"
    path.write_text(f"version: 1.4.0\nthresholds:\n  error_rate: {number}\n")
    with pytest.raises(SpecError) as refused:
        read_yaml_document(path)
    assert f"{path}:3: thresholds.error_rate: a number of" in str(refused.value)


def test_an_integer_a_float_holds_is_read(tmp_path: Path) -> None:
    # The control: the largest integer a float holds (and its negative) is a number.
    largest = int(__import__("sys").float_info.max)
    path = tmp_path / "deploygate.yaml"
    path.write_text(f"a: {largest}\nb: -{largest}\nc: true\n")
    assert read_yaml_document(path).data == {"a": largest, "b": -largest, "c": True}


@pytest.mark.parametrize("number", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
def test_a_gate_given_a_huge_threshold_refuses_it_without_a_traceback(
        example: GateProject, number: str) -> None:
    """The error-rate bound of deploygate.yaml set to 10**400: the gate crashed with an
    OverflowError traceback (rendering "{error_rate}" in the criterion's text) after
    comparing every rate against a bound nothing exceeds."""
    config = example.root / "deploygate.yaml"
    text = config.read_text()
    assert "\nmetrics_file:" in text
    config.write_text(text.replace("\nmetrics_file:",
                                   f"\nthresholds: {{error_rate: {number}}}\nmetrics_file:", 1))
    line = config.read_text().splitlines().index(f"thresholds: {{error_rate: {number}}}") + 1
    result = example.run("--gate=12")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret != 0
    assert "Traceback" not in out and "OverflowError" not in out
    assert f"deploygate.yaml:{line}: thresholds.error_rate: a number of" in out


# -- the one pass against PyYAML's node tree, on the documents an attacker would try ----------

#: Each loads (or is refused) exactly as through PyYAML's node tree and the old checks, with
#: the same repeated keys: tried against the one pass and found no hole; kept as guards.
TRIED = {
    "alias-key-repeats-anchored-key": "&k a: strict\n*k : loose\n",
    "flow-alias-key": "{&k a: strict, *k : loose}\n",
    "explicit-alias-key": "? &k a\n: strict\n? *k\n: loose\n",
    "str-tag-vs-quoted": "!!str 1: strict\n'1': loose\n",
    "non-specific-tag-key": "! a: strict\na: loose\n",
    "alias-of-tagged-key": "- &a !!str 1\n- {*a : strict, '1': loose}\n",
    "complex-key": "? [a]\n: 1\n",
    "alias-of-list-as-key": "- &l [a]\n- {*l : 1}\n",
    "null-keys": "~: strict\nnull: loose\n? !!null ''\n: x\n",
    "single-pair-flow": "[a: 1, a: 2]\n",
    "flow-set-syntax": "{? a, a}\n",
    "merge-plus-explicit": "base: &b {check: strict}\nx: {<<: *b, check: loose}\n",
    "merge-repeated": "p: &p {a: 1}\nq: &q {b: 2}\nx:\n  <<: *p\n  <<: *q\n",
    "merge-then-repeat": "x:\n  a: 1\n  a: 2\n  <<: {b: 2}\n",
    "merge-via-tag-prefix": "%TAG !m! tag:yaml.org,2002:\n---\nx: {!m!merge a: {b: 1}}\n",
    "merge-alias-key": "- &m <<\n- {*m : {a: 1}}\n",
    "merge-value": "x: !!merge a\n",
    "tag-prefix-int": "%TAG !m! tag:yaml.org,2002:\n---\na: !m!int 3\n",
    "redefined-secondary-handle": "%TAG !! tag:example.com,2000:\n---\na: !!str 1\n",
    "set-then-repeat": "- !!set {a, b}\n- {a: 1, a: 2}\n",
    "repeat-then-set": "- {a: 1, a: 2}\n- !!set {a, b}\n",
    "omap-repeat": "- !!omap [a: 1, a: 2]\n",
    "map-tag-repeat": "!!map {a: 1, a: 2}\n",
    "str-tag-on-list": "!!str [a]\n",
    "seq-tag-on-map": "!!seq {a: 1}\n",
    "two-documents": "a: strict\n---\na: loose\n",
    "two-documents-ended": "a: strict\n...\n---\na: loose\n",
    "self-reference": "a: &a [*a]\n",
    "self-reference-root": "&a {b: *a}\n",
    "anchor-reused": "a: &x strict\nb: &x loose\nc: *x\n",
    "aliased-repeats": "x: &a {k: 1, k: 2}\ny: *a\n",
    "binary-keys": "!!binary aGk=: 1\n!!binary aGk=: 2\n",
    "date-keys": "2001-12-14: a\n2001-12-14: b\n",
    "quoted-not-string": "a: ! 'yes'\nb: ! '12'\n",
    "yaml-directive": "%YAML 1.1\n---\na: 1\n",
    "bom-inside": "a: 1\n\ufeffb: 2\n",
}


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("text", TRIED.values(), ids=TRIED.keys())
def test_attacks_tried_load_as_through_the_node_tree(loader: type[Any], text: str) -> None:
    from test_yaml_one_pass import assert_same

    assert_same(text, loader)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_a_value_tag_scalar_later_used_as_a_key_is_refused(loader: type[Any]) -> None:
    """The one difference found, in the safe direction: PyYAML reads ``=`` (YAML 1.1's
    !!value) as a string when an alias of it is a key of a mapping constructed before it
    (``flatten_mapping`` retags the shared node), and refuses it otherwise; the one pass
    refuses it always, so its type never depends on construction order."""
    text = "a: {b: &v =}\n*v : x\n"
    assert yaml.load(text, Loader=loader) == {"a": {"b": "="}, "=": "x"}
    with pytest.raises(YamlSyntaxError, match=r"tag:yaml\.org,2002:value"):
        load_yaml(text, loader)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("prefix", ["", NODE_PATH], ids=["one-pass", "node-path"])
@pytest.mark.parametrize("number", ["1" + ":0" * 2000, "-1" + ":0" * 40 + ".5",
                                    "!!int 1" + ":0" * 8])
def test_a_base_60_number_of_thousands_of_parts_is_refused_before_it_is_built(
        loader: type[Any], prefix: str, number: str) -> None:
    """PyYAML builds a base-60 number (1:0:0:...) by multiplying once per part: quadratic,
    about 0.7 s at 50,000 parts and minutes for the million a 2 MiB file holds."""
    lines = prefix.count("\n")
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(f"{prefix}a: 1\nb: {number}\n", loader)
    assert refused.value.line == lines + 2
    assert "base-60 number of" in refused.value.detail


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_a_clock_time_in_base_60_is_still_a_number(loader: type[Any]) -> None:
    # The control: YAML 1.1's base 60 as PyYAML reads it, up to the bound.
    assert load_yaml("a: 1:30:00\nb: 1:0:0:0:0:0:0:0\nc: 190:20:30.15\n", loader).data == {
        "a": 5400, "b": 60 ** 7, "c": 685230.15}
