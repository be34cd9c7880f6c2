"""The one-pass reader's note that it built no non-finite number: when it says so, the walk
of non_finite_numbers would have found nothing; when not, the walk runs and reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deploygate.core.documents import non_finite_numbers
from pytest_deploygate.core.value_class import replace
from pytest_deploygate.core.yaml_lines import load_yaml

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


@pytest.mark.parametrize("text", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_flag_agrees_with_the_walk(text: str) -> None:
    loaded = load_yaml(text)
    walked = non_finite_numbers(replace(loaded, finite_numbers=False), Path("d.yaml"))
    assert non_finite_numbers(loaded, Path("d.yaml")) == walked
    if loaded.finite_numbers:
        assert walked == []


def test_a_non_finite_value_clears_the_flag() -> None:
    loaded = load_yaml("a: 1\nb: .inf\n")
    assert not loaded.finite_numbers
    assert non_finite_numbers(loaded, Path("d.yaml")) == [
        "d.yaml:2: b: inf is not a finite number; give a number"]
