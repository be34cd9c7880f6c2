"""Value classes: ``dataclasses``' declarations without its cost at import.

``dataclasses`` compiles up to six methods (``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__``, ``__delattr__``) from source for every class when its module is
imported: about 1.5 ms a frozen class on a CI machine. The package declares some sixty of them,
and a gate run or a ``deploygate verdict`` paid 55-75 ms for the ones it imported. Here only
``__init__`` is compiled (it runs once per instance, so it stays as fast as dataclasses' own),
and only when the class is first instantiated; equality, hashing, repr and freezing are
shared functions that read the class's field names.

The declaration reads as a dataclass's, and type checkers treat it as one (PEP 681)::

    @value_class(frozen=True)
    class Outcome:
        status: Status
        reasons: list[str] = field(default_factory=list)

Supported: defaults, ``field(default_factory=..., init=..., repr=...)``, ``InitVar`` and
``__post_init__``, inheritance from another value class, ``eq`` and ``frozen`` (a frozen
class with ``eq`` hashes by its fields, a mutable one is unhashable), and :func:`replace`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["FrozenInstanceError", "field", "replace", "value_class"]

_T = TypeVar("_T")
_FIELDS = "__value_fields__"
#: Annotations that are not fields (as for dataclasses): class-wide constants.
_CLASS_VARIABLE = ("ClassVar", "typing.ClassVar", "Final", "typing.Final")
_INIT_ONLY = ("InitVar", "dataclasses.InitVar")


class FrozenInstanceError(AttributeError):
    """An attribute of a frozen value was assigned or deleted."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class _Field:
    """One field as declared: its default or factory and whether ``__init__`` takes it."""

    __slots__ = ("default", "factory", "init", "init_only", "name", "repr")

    def __init__(self, default: Any = _MISSING, factory: Callable[[], Any] | None = None,
                 init: bool = True, repr: bool = True) -> None:
        self.name = ""
        self.default = default
        self.factory = factory
        self.init = init
        self.repr = repr
        self.init_only = False


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
          init: bool = True, repr: bool = True) -> Any:
    """A field's options: ``default_factory`` for a fresh mutable default per instance,
    ``init=False`` for a field ``__post_init__`` sets, ``repr=False`` to leave it out of
    ``repr``."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("a field cannot have both a default and a default_factory")
    return _Field(default, default_factory, init, repr)


@overload
def value_class(cls: type[_T], /) -> type[_T]: ...
@overload
def value_class(*, frozen: bool = False, eq: bool = True, slots: bool = False
                ) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(field,))
def value_class(cls: type[_T] | None = None, /, *, frozen: bool = False, eq: bool = True,
                slots: bool = False) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a value class, as ``dataclasses.dataclass`` would (see the module).

    ``slots=True`` (as dataclasses': a new class, with ``__slots__`` for its fields) is for
    values kept by the thousand: a big gate's criteria and checks, ~40-55 bytes less each.
    Defaults then live in ``__init__`` only, not as class attributes."""
    def wrap(target: type[_T]) -> type[_T]:
        return _process(target, frozen=frozen, eq=eq, slots=slots)
    return wrap if cls is None else wrap(cls)


def replace(value: _T, /, **changes: Any) -> _T:
    """A copy of ``value`` with ``changes`` (``__init__`` runs again, as with dataclasses)."""
    fields: tuple[_Field, ...] = getattr(value, _FIELDS)
    arguments: dict[str, Any] = {}
    for one in fields:
        if not one.init:
            if one.name in changes:
                raise ValueError(f"field {one.name} is not an __init__ argument")
            continue
        if one.init_only:
            if one.name not in changes and one.default is _MISSING:
                raise ValueError(f"InitVar {one.name!r} must be given to replace()")
            continue
        arguments[one.name] = getattr(value, one.name)
    arguments.update(changes)
    return type(value)(**arguments)


def _declared(cls: type) -> list[_Field]:
    inherited: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for one in getattr(base, _FIELDS, ()):
            inherited[one.name] = one
    # The class's own annotations (inspect.get_annotations would import inspect: ~10 ms).
    own: dict[str, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in own.items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.startswith(_CLASS_VARIABLE):
            continue
        declared = cls.__dict__.get(name, _MISSING)
        # A copy of a field() object: the one object may be declared by several classes (a
        # shared constant), and __init__ is compiled later, from what each class declared.
        one = _Field(declared.default, declared.factory, declared.init, declared.repr) \
            if isinstance(declared, _Field) else _Field(declared)
        if one.default is not _MISSING and type(one.default).__hash__ is None:
            # As dataclasses: an unhashable default (list, dict, set) would be one object
            # shared by every instance.
            raise ValueError(f"{cls.__name__}: mutable default {type(one.default).__name__} "
                             f"for field {name!r}: use default_factory")
        one.name = name
        one.init_only = text.startswith(_INIT_ONLY)
        if isinstance(declared, _Field):  # the class attribute becomes the default, or nothing
            if one.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, one.default)
        inherited[name] = one
    return list(inherited.values())


def _process(cls: type[_T], *, frozen: bool, eq: bool, slots: bool = False) -> type[_T]:
    fields = _declared(cls)
    _check_order(cls, fields)
    stored = tuple(one.name for one in fields if not one.init_only)
    if slots:
        cls = _with_slots(cls, stored, frozen)
    setattr(cls, _FIELDS, tuple(fields))
    shown = tuple(one.name for one in fields if one.repr and not one.init_only)
    methods: dict[str, object] = {"__init__": _compiled_on_first_use(cls, fields, frozen),
                                  "__repr__": _repr_of(shown)}
    if eq:
        methods["__eq__"] = _eq_of(stored)
        # As dataclasses: a frozen value hashes by its fields; a mutable one must not hash.
        methods["__hash__"] = _hash_of(stored) if frozen else None
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:  # as dataclasses: declared frozen is frozen
                raise TypeError(f"{cls.__name__}: a frozen value class cannot define {name}")
        methods["__setattr__"] = _refuse_assignment
        methods["__delattr__"] = _refuse_deletion
    own = cls.__dict__
    for name, method in methods.items():
        # What the class writes itself stays (Python puts __hash__ = None beside an own __eq__).
        if name not in own or (name == "__hash__" and own[name] is None and "__eq__" not in own):
            setattr(cls, name, method)
    return cls


def _with_slots(cls: type[_T], stored: tuple[str, ...], frozen: bool) -> type[_T]:
    """The class again, with slots for the fields it adds (a slot and a class attribute of
    one name cannot coexist: the defaults stay in ``__init__``)."""
    inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "__slots__", ())}
    namespace = dict(cls.__dict__)
    for name in (*stored, "__dict__", "__weakref__"):
        namespace.pop(name, None)
    for value in namespace.values():
        if "__class__" in getattr(getattr(value, "__code__", None), "co_freevars", ()):
            raise TypeError(f"{cls.__name__}: a slots value class cannot use super() or "
                            "__class__ (the class is made again)")
    namespace["__slots__"] = tuple(name for name in stored if name not in inherited)
    namespace["__qualname__"] = cls.__qualname__
    if frozen:  # pickle and copy restore slots with setattr, which a frozen value refuses
        namespace["__getstate__"] = _getstate_of(stored)
        namespace["__setstate__"] = _setstate_of(stored)
    metaclass: Any = type(cls)
    made: type[_T] = metaclass(cls.__name__, cls.__bases__, namespace)
    return made


def _getstate_of(names: tuple[str, ...]) -> Callable[[object], list[Any]]:
    def __getstate__(self: object) -> list[Any]:
        return [getattr(self, name) for name in names]
    return __getstate__


def _setstate_of(names: tuple[str, ...]) -> Callable[[object, list[Any]], None]:
    def __setstate__(self: object, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)
    return __setstate__


def _check_order(cls: type, fields: list[_Field]) -> None:
    defaulted = ""
    for one in fields:
        if not one.init:
            continue
        if one.default is not _MISSING or one.factory is not None:
            defaulted = one.name
        elif defaulted:
            raise TypeError(f"{cls.__name__}: non-default field {one.name!r} follows default "
                            f"field {defaulted!r}")


def _compiled_on_first_use(cls: type, fields: list[_Field], frozen: bool
                           ) -> Callable[..., None]:
    """A stand-in ``__init__`` that compiles the real one when the class is first
    instantiated and puts it in its place. Compiling costs ~0.3 ms a class, and most classes a
    module declares are never instantiated in a given run (a verdict imports some forty)."""
    # Whether __post_init__ runs is decided now, as an eager compile decided it (a decorator
    # applied after value_class, adding one, did not change __init__).
    post_init = hasattr(cls, "__post_init__")

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        compiled = _init(cls, fields, frozen, post_init)
        if cls.__dict__.get("__init__") is __init__:
            type.__setattr__(cls, "__init__", compiled)
        compiled(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return __init__


def _init(cls: type, fields: list[_Field], frozen: bool, post_init: bool
          ) -> Callable[..., None]:
    # The one compiled method: generic code would cost every instance a loop over the fields.
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    parameters: list[str] = []
    body: list[str] = []
    init_only: list[str] = []
    for index, one in enumerate(fields):
        if one.init:
            if one.factory is not None:
                namespace[f"_factory{index}"] = one.factory
                parameters.append(f"{one.name}=_MISSING")
                value = f"_factory{index}() if {one.name} is _MISSING else {one.name}"
            elif one.default is not _MISSING:
                namespace[f"_default{index}"] = one.default
                parameters.append(f"{one.name}=_default{index}")
                value = one.name
            else:
                parameters.append(one.name)
                value = one.name
        elif one.factory is not None:
            namespace[f"_factory{index}"] = one.factory
            value = f"_factory{index}()"
        elif one.default is not _MISSING:
            namespace[f"_default{index}"] = one.default
            value = f"_default{index}"
        else:
            continue  # set by __post_init__
        if one.init_only:
            init_only.append(one.name)
            continue
        body.append(f"  _set(self, {one.name!r}, {value})" if frozen
                    else f"  self.{one.name} = {value}")
    if post_init:
        body.append(f"  self.__post_init__({', '.join(init_only)})")
    source = (f"def __init__(self, {', '.join(parameters)}):\n"
              + ("\n".join(body) or "  pass") + "\n")
    exec(source, namespace)
    function: Callable[..., None] = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    function.__module__ = cls.__module__
    return function


def _values(value: object, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(value, name) for name in names)


def _repr_of(names: tuple[str, ...]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"
    return __repr__


def _eq_of(names: tuple[str, ...]) -> Callable[[object, object], bool]:
    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self, names) == _values(other, names)
    return __eq__


def _hash_of(names: tuple[str, ...]) -> Callable[[object], int]:
    def __hash__(self: object) -> int:
        return hash(_values(self, names))
    return __hash__


def _refuse_assignment(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen "
                              f"{type(self).__name__}")


def _refuse_deletion(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

