"""``value_class`` behaves as ``dataclasses.dataclass`` for every feature the package uses: the
same class declared both ways must construct, compare, hash, show, copy and refuse alike."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from dataclasses import InitVar
from typing import Any, ClassVar

import pytest

from pytest_deploygate.core import value_class as values

Decorate = Callable[..., Any]
BOTH = pytest.mark.parametrize("make, field, replace, frozen_error", [
    (dataclasses.dataclass, dataclasses.field, dataclasses.replace,
     dataclasses.FrozenInstanceError),
    (values.value_class, values.field, values.replace, values.FrozenInstanceError),
], ids=["dataclasses", "value_class"])


def declare(make: Decorate, field: Decorate) -> dict[str, type]:
    @make(frozen=True)
    class Point:
        """A frozen value with defaults of every kind."""

        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)
        hidden: str = field(default="secret", repr=False)
        LIMIT: ClassVar[int] = 3

    @make(frozen=True)
    class Pair:
        """A frozen value of hashable fields."""

        left: str
        right: int = 0

    @make
    class Counter:
        """A mutable value."""

        name: str
        seen: list[int] = field(default_factory=list)

    @make(frozen=True, eq=False)
    class Handle:
        """Identity equality, as ``eq=False`` asks."""

        path: str

    @make(frozen=True)
    class Derived(Point):
        """Inherits the fields, adds one with a default."""

        z: int = 9

    @make(frozen=True)
    class Computed:
        """A field set by ``__post_init__`` from an init-only argument."""

        base: int
        factor: InitVar[int] = 2
        total: int = field(init=False)

        def __post_init__(self, factor: int) -> None:
            object.__setattr__(self, "total", self.base * factor)

    return {"Point": Point, "Pair": Pair, "Counter": Counter, "Handle": Handle, "Derived": Derived,
            "Computed": Computed}


@BOTH
def test_construction_and_defaults(make: Decorate, field: Decorate, replace: Decorate,
                                   frozen_error: type) -> None:
    kinds = declare(make, field)
    point = kinds["Point"](1)
    assert (point.x, point.y, point.tags, point.hidden) == (1, 0, [], "secret")
    assert kinds["Point"](1).tags is not point.tags  # a fresh list per instance
    assert kinds["Point"](x=2, y=3, tags=["a"]).tags == ["a"]
    assert kinds["Point"].LIMIT == 3
    with pytest.raises(TypeError):
        kinds["Point"]()
    with pytest.raises(TypeError):
        kinds["Point"](1, 2, [], "h", "one too many")
    with pytest.raises(TypeError):
        kinds["Point"](1, nope=2)
    derived = kinds["Derived"](1, 2)
    assert (derived.x, derived.y, derived.z) == (1, 2, 9)
    computed = kinds["Computed"](5, 3)
    assert computed.total == 15
    assert kinds["Computed"](5).total == 10


@BOTH
def test_equality_hash_and_repr(make: Decorate, field: Decorate, replace: Decorate,
                                frozen_error: type) -> None:
    kinds = declare(make, field)
    Point = kinds["Point"]
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != kinds["Derived"](1, 2)  # another class is never equal
    Pair = kinds["Pair"]
    assert hash(Pair("a", 1)) == hash(Pair("a", 1))
    assert {Pair("a", 1): "found"}[Pair("a", 1)] == "found"
    assert len({Pair("a", 1), Pair("a", 2), Pair("a", 1)}) == 2
    with pytest.raises(TypeError):
        hash(Point(1, 2))  # a list field: unhashable, as its fields are
    with pytest.raises(TypeError):
        hash(kinds["Counter"]("mutable values do not hash"))
    handle = kinds["Handle"]("p")
    assert handle == handle and handle != kinds["Handle"]("p")
    assert hash(handle) == object.__hash__(handle)
    text = repr(Point(1, 2))
    assert text.endswith("Point(x=1, y=2, tags=[])") and "secret" not in text


@BOTH
def test_frozen_values_refuse_change(make: Decorate, field: Decorate, replace: Decorate,
                                     frozen_error: type) -> None:
    kinds = declare(make, field)
    point = kinds["Point"](1)
    with pytest.raises(frozen_error):
        point.x = 2
    with pytest.raises(frozen_error):
        del point.x
    with pytest.raises(AttributeError):
        point.new_attribute = 1
    counter = kinds["Counter"]("c")
    counter.name = "changed"
    assert counter.name == "changed"


@BOTH
def test_replace_copies_with_changes(make: Decorate, field: Decorate, replace: Decorate,
                                     frozen_error: type) -> None:
    kinds = declare(make, field)
    point = kinds["Point"](1, 2, ["t"])
    moved = replace(point, y=5)
    assert (moved.x, moved.y, moved.tags) == (1, 5, ["t"]) and point.y == 2
    with pytest.raises(TypeError):
        replace(point, nope=1)
    computed = kinds["Computed"](4, 3)
    with pytest.raises(ValueError):
        replace(computed, total=1)  # not an __init__ argument
    assert replace(computed, base=5, factor=3).total == 15


def test_values_survive_pickling() -> None:
    # pytest-xdist sends outcomes from its workers; pickle needs module-level classes.
    from pytest_deploygate.core.results import CheckResult

    result = CheckResult("met", "fine")
    assert pickle.loads(pickle.dumps(result)) == result


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default field 'b' follows default field 'a'"):
        @values.value_class
        class Wrong:
            a: int = 1
            b: int


def test_methods_the_class_writes_itself_stay() -> None:
    @values.value_class(frozen=True)
    class Shown:
        name: str

        def __repr__(self) -> str:
            return "custom"

    assert repr(Shown("x")) == "custom"
    assert Shown("x") == Shown("x")


# -- red team: a value meant to be frozen or per-instance must be so, or refused (as dataclasses) --

@BOTH
def test_a_mutable_class_default_is_refused(make: Decorate, field: Decorate, replace: Decorate,
                                            frozen_error: type) -> None:
    # One list shared by every instance: what one criterion's result appends shows in the
    # next one's. dataclasses refuses it; value_class accepted it.
    for default in ([], {}, set()):
        with pytest.raises(ValueError, match="default_factory"):
            @make(frozen=True)
            class Shared:
                reasons: Any = default


@BOTH
def test_a_frozen_class_cannot_keep_its_own_setattr(make: Decorate, field: Decorate,
                                                    replace: Decorate,
                                                    frozen_error: type) -> None:
    # Declared frozen, mutable in fact: dataclasses refuses the class; value_class kept the
    # class's own __setattr__ and the value changed.
    with pytest.raises(TypeError, match="__setattr__"):
        @make(frozen=True)
        class Leaky:
            status: str

            def __setattr__(self, name: str, value: object) -> None:
                object.__setattr__(self, name, value)


@BOTH
def test_a_slots_value_behaves_as_a_dataclass_with_slots(make: Decorate, field: Decorate,
                                                        replace: Decorate,
                                                        frozen_error: type) -> None:
    @make(frozen=True, slots=True)
    class Check:
        kind: str
        params: tuple[str, ...] = ()
        line: int = 0

    @make(slots=True)
    class Outcome:
        status: str
        evidence: list[str] = field(default_factory=list)
        duration: float = 0.0

    check = Check("state", ("a",))
    assert (check.kind, check.params, check.line) == ("state", ("a",), 0)
    assert not hasattr(check, "__dict__")
    assert check == Check("state", ("a",)) and hash(check) == hash(Check("state", ("a",)))
    assert repr(check) == "test_a_slots_value_behaves_as_a_dataclass_with_slots.<locals>." \
        "Check(kind='state', params=('a',), line=0)"
    with pytest.raises(frozen_error):
        check.line = 3  # type: ignore[misc]
    assert copy.copy(check) == check and copy.deepcopy(check) == check
    assert replace(check, line=7) == Check("state", ("a",), 7)
    outcome = Outcome("met")
    outcome.duration += 1.5
    outcome.evidence.append("e")
    assert (outcome.status, outcome.evidence, outcome.duration) == ("met", ["e"], 1.5)
    assert Outcome("met").evidence == []
    with pytest.raises(AttributeError):
        outcome.other = 1  # type: ignore[attr-defined]
