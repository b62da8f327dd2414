"""Plain records for the modules on the start-up path: ``@record`` is ``@dataclass`` without
the code generation.

``dataclasses`` writes each class's ``__init__``, ``__eq__``, ``__repr__`` (and, frozen,
``__setattr__``, ``__hash__``) as source and compiles it: about 0.5-1 ms a class, and
``lossctl compute`` meets some twenty of them before it reads a byte (measured, see
benchmarks/). ``@record`` builds the same methods from closures over the field list, once,
in microseconds; an instance costs a little more to create, which nothing here does often.

What it keeps of a dataclass: fields from the class annotations in order (those of record base
classes first), defaults and ``field(default_factory=..., repr=False)``, positional or keyword
arguments with the same errors for a missing or an unknown one, ``__post_init__``, equality
field by field between instances of the same class, ``frozen=True`` (assignment raises
:class:`FrozenInstanceError`, and the record hashes by its fields), and :func:`replace` and
:func:`asdict` (shallow). Annotations are names only (``from __future__ import annotations``
keeps them strings; ``ClassVar`` is not supported).
"""
from __future__ import annotations

from typing import Any

__all__ = ["FrozenInstanceError", "asdict", "field", "fields", "record", "replace"]

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (as ``dataclasses.FrozenInstanceError``)."""


class Field:
    """A field's default, default factory and whether ``repr`` shows it."""

    __slots__ = ("default", "factory", "name", "repr")

    def __init__(self, default: Any = _MISSING, factory: Any = _MISSING, show: bool = True):
        self.name = ""
        self.default, self.factory, self.repr = default, factory, show


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True) -> Any:
    """A field with a default factory (``field(default_factory=list)``) or hidden from repr."""
    return Field(default, default_factory, repr)


def fields(obj_or_cls: Any) -> tuple[Field, ...]:
    """The record's fields, in order."""
    return obj_or_cls.__record_fields__


def _init(cls_name: str, specs: tuple[Field, ...]):
    names = tuple(f.name for f in specs)
    known = frozenset(names)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls_name}() takes {len(names)} positional arguments but "
                            f"{len(args)} were given")
        for key in kwargs:
            if key not in known:
                raise TypeError(f"{cls_name}() got an unexpected keyword argument {key!r}")
        put = object.__setattr__
        for i, f in enumerate(specs):
            if i < len(args):
                if f.name in kwargs:
                    raise TypeError(f"{cls_name}() got multiple values for argument {f.name!r}")
                value = args[i]
            elif f.name in kwargs:
                value = kwargs[f.name]
            elif f.default is not _MISSING:
                value = f.default
            elif f.factory is not _MISSING:
                value = f.factory()
            else:
                raise TypeError(f"{cls_name}() missing required argument: {f.name!r}")
            put(self, f.name, value)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    return __init__


def _values(self: Any) -> tuple:
    return tuple(getattr(self, f.name) for f in self.__record_fields__)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__
                      if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _hash(self: Any) -> int:
    return hash(_values(self))


def record(cls: type | None = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record (``@record`` or ``@record(frozen=True)``)."""

    def wrap(cls: type) -> type:
        specs: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            for f in getattr(base, "__record_fields__", ()):
                specs[f.name] = f
        for name in cls.__dict__.get("__annotations__", {}):
            value = cls.__dict__.get(name, _MISSING)
            f = value if isinstance(value, Field) else Field(value)
            f.name = name
            specs[name] = f
            if isinstance(value, Field):
                if value.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value.default)
        ordered = tuple(specs.values())
        seen_default = False
        for f in ordered:
            has_default = f.default is not _MISSING or f.factory is not _MISSING
            if seen_default and not has_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            seen_default = seen_default or has_default
        cls.__record_fields__ = ordered
        cls.__init__ = _init(cls.__name__, ordered)
        cls.__init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__repr__ = _repr
        cls.__eq__ = _eq
        cls.__match_args__ = tuple(f.name for f in ordered)
        if frozen:
            cls.__setattr__ = _frozen_setattr
            cls.__delattr__ = _frozen_delattr
            cls.__hash__ = _hash
        else:
            cls.__hash__ = None  # mutable and compared by value, as a dataclass
        return cls

    return wrap if cls is None else wrap(cls)


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of the record ``obj`` with ``changes`` (``dataclasses.replace``)."""
    values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}
    values.update(changes)
    return obj.__class__(**values)


def asdict(obj: Any) -> dict[str, Any]:
    """The record's fields as a dict (shallow: nested records stay objects)."""
    return {f.name: getattr(obj, f.name) for f in obj.__record_fields__}
