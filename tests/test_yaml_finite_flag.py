"""The one-pass reader's notes that it built no non-finite number and read every key as text:
when one says so, the walk of non_finite_numbers (non_text_keys) would have found nothing;
when not, the walk runs and reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_deploygate.core.value_class import replace
from pytest_deploygate.core.yaml_lines import load_yaml
from pytest_deploygate.core.yaml_model import LoadedYaml
from pytest_deploygate.core.yaml_refusals import non_finite_numbers, non_json_values, non_text_keys

DOCUMENTS = [
    "a: 1\nb: [1.5, -2, x]\n",
    "a: .nan\n",
    "a: [1, -.inf]\n",
    "a: !!float .inf\n",
    "a: &n .nan\nb: *n\n",
    "big: 1" + "0" * 400 + "\n",
    "big: -1" + "0" * 400 + "\n",
    "ok: 1" + "0" * 300 + "\n",
    ".nan: 1\n",
    "a: '.nan'\n",
]


def test_a_non_finite_value_clears_the_flag() -> None:
    loaded = load_yaml("a: 1\nb: .inf\n")
    assert not loaded.finite_numbers
    assert non_finite_numbers(loaded, Path("d.yaml")) == [
        "d.yaml:2: b: inf is not a finite number; give a number"]


KEYED = [
    "a: 1\nb: {c: d}\n",
    "a: {1: x}\n",
    "a:\n  b: 1\n  .nan: 2\n",
    "yes: 1\n",
    "a: [{~: 1}]\n",
    "2024-01-01: x\n",
    "'1': quoted\n",
    "<<: {x: 1}\n2: y\n",  # a merge key: read by the node composer, whose keys are walked
]


def test_a_key_that_is_not_text_is_named_with_its_mapping() -> None:
    loaded = load_yaml("thresholds:\n  p99_ms: 1500\n  .nan: 5\n")
    assert non_text_keys(loaded, Path("d.yaml")) == [
        "d.yaml:2: thresholds: the key nan is read as a number, not as a name; quote it"]


def test_collection_tags_are_walked_for_non_finite_numbers() -> None:
    # !!omap and !!pairs build lists of tuples, !!set a set: looked into like lists.
    for text, where in (("a: !!omap [b: .nan]\n", "a[0][1]"), ("a: !!pairs [b: .inf]\n",
                        "a[0][1]"), ("a: !!set {.nan}\n", "a[0]")):
        problems = non_finite_numbers(load_yaml(text), Path("d.yaml"))
        assert len(problems) == 1 and problems[0].startswith(f"d.yaml:1: {where}: "), problems


VALUED = [
    "a: 1\nb: [true, null, 1.5, x]\n",
    "a: 2024-01-01\n",
    "a: [x, 2024-01-01 10:00:00]\n",
    "a: !!binary aGk=\n",
    "a: '2024-01-01'\n",
    "a: !!str 2024-01-01\n",
    "a: &d 2024-01-01\nb: *d\n",
    "<<: {x: 2024-01-01}\n",  # a merge key: the node composer's data is walked
    "a: !!set {x}\n",
    "a: !!pairs [b: 1]\n",
]


def test_a_date_is_refused_where_it_stands() -> None:
    loaded = load_yaml("check:\n  kind: state\n  not_equals: 2024-01-01\n")
    assert non_json_values(loaded, Path("d.yaml")) == [
        "d.yaml:3: check.not_equals: 2024-01-01 is read as a date, which no JSON document "
        "holds; quote it"]


#: Each note, the walk it stands for, and documents that set and clear it.
NOTES = [("finite_numbers", non_finite_numbers, DOCUMENTS), ("text_keys", non_text_keys, KEYED),
         ("json_values", non_json_values, VALUED)]


@pytest.mark.parametrize(("note", "walk", "text"),
                         [(note, walk, text) for note, walk, texts in NOTES for text in texts],
                         ids=[f"{note}-{n}" for note, _, texts in NOTES for n in range(len(texts))])
def test_note_agrees_with_the_walk(note: str, walk: Callable[[LoadedYaml, Path], list[str]],
                                   text: str) -> None:
    loaded = load_yaml(text)
    walked = walk(replace(loaded, **{note: False}), Path("d.yaml"))
    assert walk(loaded, Path("d.yaml")) == walked
    if getattr(loaded, note):
        assert walked == []
