"""Small declarative schemas for JSON data read back from disk or a socket.

A schema is a tree of checkers; `check(schema, value)` raises `SchemaError` naming
the first place that does not fit (``toc.A.marks[3][0]: a number, not 'x'``)::

    COUNTER = Record({"cassette": Bool()},
                     optional={"length": OneOf(Null(), Text(max_len=8))})

Every checker is bounded: texts, lists and maps have a largest size, numbers a
range and are finite (no NaN, no infinity), and `Anything` a largest depth, so a
checked value is safe to walk without recursion or memory surprises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_ITEMS = 100_000
MAX_TEXT = 64 * 1024


class SchemaError(ValueError):
    """The value does not fit; the message names where and what was expected."""


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


class Schema:
    """A checker: `validate(value, where)` raises SchemaError when `value` does not fit."""

    expects = "a value"

    def validate(self, value: Any, where: str) -> None:
        raise NotImplementedError

    def fail(self, value: Any, where: str, expected: str | None = None) -> SchemaError:
        at = f"{where}: " if where else ""
        return SchemaError(f"{at}{expected or self.expects}, not {_show(value)}")


class Null(Schema):
    expects = "null"

    def validate(self, value: Any, where: str) -> None:
        if value is not None:
            raise self.fail(value, where)


class Bool(Schema):
    expects = "true or false"

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, bool):
            raise self.fail(value, where)


class Number(Schema):
    """A finite int or float (never a bool) within [low, high]; `integer`: ints only."""

    def __init__(self, low: float = -1e12, high: float = 1e12, integer: bool = False) -> None:
        self.low, self.high, self.integer = low, high, integer
        kind = "a whole number" if integer else "a number"
        self.expects = f"{kind} from {low:g} to {high:g}"

    def validate(self, value: Any, where: str) -> None:
        kinds = int if self.integer else int | float
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise self.fail(value, where)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(value, where)
        if not self.low <= value <= self.high:
            raise self.fail(value, where)


class Text(Schema):
    """A string of at most `max_len` characters, matching `pattern` (fully) if given."""

    def __init__(self, max_len: int = MAX_TEXT, pattern: str | None = None,
                 choices: tuple[str, ...] | None = None) -> None:
        self.max_len, self.choices = max_len, choices
        self.pattern = re.compile(pattern) if pattern else None
        self.expects = (f"one of {', '.join(map(repr, choices))}" if choices
                        else f"a text of at most {max_len} characters"
                        + (f" like {pattern}" if pattern else ""))

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or len(value) > self.max_len:
            raise self.fail(value, where)
        if self.choices is not None and value not in self.choices:
            raise self.fail(value, where)
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise self.fail(value, where)


class ListOf(Schema):
    def __init__(self, item: Schema, max_items: int = MAX_ITEMS) -> None:
        self.item, self.max_items = item, max_items
        self.expects = f"a list of at most {max_items} items"

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, list) or len(value) > self.max_items:
            raise self.fail(value, where)
        for i, item in enumerate(value):
            self.item.validate(item, f"{where}[{i}]")


class Tuple(Schema):
    """A list of exactly these items, in order (`[position, source]`)."""

    def __init__(self, *items: Schema) -> None:
        self.items = items
        self.expects = f"a list of {len(items)} items"

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, list) or len(value) != len(self.items):
            raise self.fail(value, where)
        for i, (item, schema) in enumerate(zip(value, self.items, strict=True)):
            schema.validate(item, f"{where}[{i}]")


class MapOf(Schema):
    """An object of any keys (of at most `max_items`) whose values fit `value`."""

    def __init__(self, value: Schema, key: Text | None = None,
                 max_items: int = 10_000) -> None:
        self.value, self.key, self.max_items = value, key or Text(256), max_items
        self.expects = f"an object of at most {max_items} entries"

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, dict) or len(value) > self.max_items:
            raise self.fail(value, where)
        for k, v in value.items():
            self.key.validate(k, f"{where} key" if where else "key")
            self.value.validate(v, _join(where, k))


class Record(Schema):
    """An object with these `required` and `optional` keys; others are refused."""

    expects = "an object"

    def __init__(self, required: Mapping[str, Schema],
                 optional: Mapping[str, Schema] | None = None) -> None:
        self.required, self.optional = dict(required), dict(optional or {})

    def validate(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, where)
        for key, schema in self.required.items():
            if key not in value:
                raise SchemaError(f"{_join(where, key)}: missing")
            schema.validate(value[key], _join(where, key))
        for key, item in value.items():
            if key in self.required:
                continue
            schema = self.optional.get(key)
            if schema is None:
                raise SchemaError(f"{_join(where, str(key))}: not a known key "
                                  f"(known: {', '.join([*self.required, *self.optional])})")
            schema.validate(item, _join(where, key))


class OneOf(Schema):
    def __init__(self, *options: Schema) -> None:
        self.options = options
        self.expects = " or ".join(o.expects for o in options)

    def validate(self, value: Any, where: str) -> None:
        deeper: list[SchemaError] = []  # an option of the right kind, wrong inside
        for option in self.options:
            try:
                option.validate(value, where)
                return
            except SchemaError as exc:
                if not str(exc).startswith(f"{where}: " if where else f"{option.expects},"):
                    deeper.append(exc)
        raise deeper[0] if deeper else self.fail(value, where)


class Where(Schema):
    """`base`, and then `test(value)` true (for what a type cannot say: a decodable text)."""

    def __init__(self, base: Schema, test: Callable[[Any], bool], expects: str) -> None:
        self.base, self.test, self.expects = base, test, expects

    def validate(self, value: Any, where: str) -> None:
        self.base.validate(value, where)
        try:
            ok = bool(self.test(value))
        except Exception:
            ok = False
        if not ok:
            raise self.fail(value, where)


class Anything(Schema):
    """Any plain JSON data nested at most `max_depth` deep (walked without recursion)."""

    def __init__(self, max_depth: int = 32, max_items: int = MAX_ITEMS) -> None:
        self.max_depth, self.max_items = max_depth, max_items
        self.expects = f"plain data nested at most {max_depth} deep"

    def validate(self, value: Any, where: str) -> None:
        stack: list[tuple[Any, int]] = [(value, 0)]
        seen = 0
        while stack:
            item, depth = stack.pop()
            seen += 1
            if depth > self.max_depth or seen > self.max_items:
                raise self.fail(value, where)
            if isinstance(item, dict):
                if not all(isinstance(k, str) for k in item):
                    raise self.fail(value, where)
                stack.extend((v, depth + 1) for v in item.values())
            elif isinstance(item, list):
                stack.extend((v, depth + 1) for v in item)
            elif isinstance(item, float) and not math.isfinite(item):
                raise self.fail(value, where)
            elif item is not None and not isinstance(item, str | int | float | bool):
                raise self.fail(value, where)


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def check(schema: Schema, value: Any, where: str = "") -> None:
    """Raise SchemaError (a ValueError) naming the first part of `value` that does not fit."""
    schema.validate(value, where)
