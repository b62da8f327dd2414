"""``lossctl.record``: the dataclass behaviour the start-up path relies on, without codegen."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from lossctl.record import FrozenInstanceError, asdict, field, fields, record, replace


@record(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list)
    secret: str = field(default="s", repr=False)


@record
class Box:
    name: str
    items: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = self.name.strip()


@dataclasses.dataclass(frozen=True)
class DPoint:
    x: int
    y: int = 0
    tags: list = dataclasses.field(default_factory=list)
    secret: str = dataclasses.field(default="s", repr=False)


def test_init_defaults_factories_and_repr_match_a_dataclass():
    for a, b in [((1,), {}), ((1, 2), {}), ((), {"x": 3, "y": 4}), ((5,), {"tags": [1]})]:
        p, d = Point(*a, **b), DPoint(*a, **b)
        assert repr(p).replace("Point", "P") == repr(d).replace("DPoint", "P")
        assert asdict(p) == dataclasses.asdict(d)
    assert Point(1).tags is not Point(1).tags  # a fresh list each time
    assert [f.name for f in fields(Point)] == ["x", "y", "tags", "secret"]
    assert Point.__match_args__ == ("x", "y", "tags", "secret")


@pytest.mark.parametrize(("args", "kwargs", "text"), [
    ((), {}, "missing required argument: 'x'"),
    ((1, 2, [], "s", 5), {}, "takes 4 positional arguments but 5 were given"),
    ((1,), {"z": 2}, "unexpected keyword argument 'z'"),
    ((1,), {"x": 2}, "multiple values for argument 'x'"),
])
def test_wrong_arguments_raise_type_errors(args, kwargs, text):
    with pytest.raises(TypeError, match=text):
        Point(*args, **kwargs)


def test_frozen_records_refuse_assignment_and_hash_by_value():
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 3
    with pytest.raises(FrozenInstanceError):
        del p.y
    assert p == Point(1, 2) and p != Point(1, 3)
    assert hash(Point(1, 2, ())) == hash(Point(1, 2, ()))  # a list field is unhashable, as there
    assert p != DPoint(1, 2)  # another class is never equal
    assert pickle.loads(pickle.dumps(Point(1, 2))) == Point(1, 2)


def test_mutable_records_run_post_init_are_unhashable_and_replace_copies():
    b = Box("  a ")
    assert b.name == "a" and b.items == {}
    b.items["k"] = 1
    with pytest.raises(TypeError):
        hash(b)
    c = replace(b, name=" c")
    assert c.name == "c" and c.items == {"k": 1} and b.name == "a"
    assert replace(Point(1, 2), y=5) == Point(1, 5)


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @record
        class Bad:
            a: int = 0
            b: int
