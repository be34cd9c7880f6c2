"""A check's shared parameters are read-only at every depth, yet still lists and dicts to the
kinds that test ``isinstance`` and to JSON, pickle and copy."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from pytest_deploygate.core.frozen_data import FrozenDict, FrozenList, freeze

RAW = {"kind": "tickets", "tickets": ["INC-7", {"id": "CHG-1", "tags": ["a"]}],
       "limits": {"max": 3, "names": ["x"]}}

WRITES: list[Callable[[Any], object]] = [
    lambda p: p["tickets"].append("X"), lambda p: p["tickets"].extend(["X"]),
    lambda p: p["tickets"].insert(0, "X"), lambda p: p["tickets"].pop(),
    lambda p: p["tickets"].remove("INC-7"), lambda p: p["tickets"].clear(),
    lambda p: p["tickets"].sort(), lambda p: p["tickets"].reverse(),
    lambda p: p["tickets"].__setitem__(0, "X"), lambda p: p["tickets"].__delitem__(0),
    lambda p: p["tickets"].__iadd__(["X"]), lambda p: p["tickets"].__imul__(2),
    lambda p: p["tickets"][1].__setitem__("id", "X"), lambda p: p["tickets"][1]["tags"].append(1),
    lambda p: p["limits"].update(max=9), lambda p: p["limits"].pop("max"),
    lambda p: p["limits"].popitem(), lambda p: p["limits"].clear(),
    lambda p: p["limits"].setdefault("new", 1), lambda p: p["limits"].__delitem__("max"),
    lambda p: p["limits"].__ior__({"max": 9}), lambda p: p.__setitem__("kind", "x"),
]


@pytest.mark.parametrize("write", WRITES)
def test_no_write_reaches_the_data(write: Callable[[Any], object]) -> None:
    frozen = freeze(copy.deepcopy(RAW))
    with pytest.raises(TypeError, match="read-only"):
        write(frozen)
    assert frozen == RAW


def test_frozen_data_still_reads_as_lists_and_dicts() -> None:
    frozen = freeze(copy.deepcopy(RAW))
    assert isinstance(frozen, dict) and isinstance(frozen["tickets"], list)
    assert isinstance(frozen["tickets"][1], FrozenDict)
    assert isinstance(frozen["limits"]["names"], FrozenList)
    assert json.loads(json.dumps(frozen)) == RAW
    for again in (pickle.loads(pickle.dumps(frozen)), copy.deepcopy(frozen), copy.copy(frozen)):
        assert again == RAW and type(again) is FrozenDict
    assert type(pickle.loads(pickle.dumps(frozen))["tickets"]) is FrozenList
    changed = list(frozen["tickets"])  # a copy is the kind's own to change
    changed.append("mine")
    assert changed[-1] == "mine" and frozen == RAW
