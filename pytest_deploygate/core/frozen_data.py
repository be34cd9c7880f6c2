"""Read-only JSON-like data, all the way down.

Checks written alike share one parameter mapping (hundreds of "attestation by qa" are
validated and stored once), so a kind that wrote into its parameters, at any depth, would
change the check of every other criterion written alike. :func:`freeze` makes every mapping
and list inside read-only while keeping their types' ``isinstance`` answers (a kind may test
``isinstance(value, list)``) and JSON's view of them.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["FrozenDict", "FrozenList", "freeze"]

_WHY = ("a check's parameters are read-only: checks written alike share them (copy them to "
        "change them)")


def _refuse(*_: object, **__: object) -> NoReturn:
    raise TypeError(_WHY)


class FrozenList(list[Any]):
    """A list no method can change."""

    __slots__ = ()
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy rebuild it whole, never through the refused append/extend.
        return (FrozenList, (list(self),))


class FrozenDict(dict[Any, Any]):
    """A dict no method can change."""

    __slots__ = ()
    pop = popitem = clear = update = setdefault = _refuse
    __setitem__ = __delitem__ = __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


def freeze(value: Any) -> Any:
    """``value`` with every dict and list inside it (itself included) read-only."""
    if isinstance(value, dict):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return FrozenList(freeze(item) for item in value)
    return value
