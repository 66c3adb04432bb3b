"""Constraints on hyperparameters: each one checks a value and says what is allowed.

A constraint is a small callable object: ``check(name, value)`` returns the value (possibly normalised,
e.g. a list of betas becomes a tuple) or raises ``ValueError`` naming the argument, the value and the
allowed set. ``check(name, value, label)`` words the message as torch.optim does (``label="learning
rate"``: "Invalid learning rate: -1 (lr=-1); allowed: ...") so that code matching torch's messages keeps
working. Optimizer specs declare one constraint per hyperparameter; the adapter runs them for the
defaults and for every param group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import torch


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def invalid(name: str, value: Any, allowed: str, label: str | None = None) -> ValueError:
    """The error every constraint raises: ``Invalid <label>: <value> (<name>=<value>); allowed: <allowed>``."""
    shown = _shown(value)
    head = f"Invalid {label}: {shown} ({name}={shown})" if label else f"Invalid {name}: {shown}"
    return ValueError(f"{head}; allowed: {allowed}")


def _as_real(name: str, value: Any) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element: got a tensor of shape {tuple(value.shape)}; "
                             "allowed: a number or a one-element tensor")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"Invalid {name}: {value!r} ({type(value).__name__}); allowed: a real number")
    return float(value)


@dataclass(frozen=True)
class Interval:
    """A real number in an interval; ``None`` bounds are open to infinity."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"a finite number in {left}{lo}, {hi}{right}"

    def contains(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        if self.high is not None and (x > self.high or (self.high_open and x == self.high)):
            return False
        return True

    def __call__(self, name: str, value: Any, label: str | None = None) -> Any:
        x = _as_real(name, value)
        if not self.contains(x):
            raise invalid(name, value, self.describe(), label)
        return value


NON_NEGATIVE = Interval(0.0)
UNIT_CLOSED = Interval(0.0, 1.0)
UNIT_HALF_OPEN = Interval(0.0, 1.0, high_open=True)


@dataclass(frozen=True)
class Boolean:
    def describe(self) -> str:
        return "True or False"

    def __call__(self, name: str, value: Any, label: str | None = None) -> Any:
        if not isinstance(value, bool):
            raise invalid(name, value, self.describe(), label)
        return value


@dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def __call__(self, name: str, value: Any, label: str | None = None) -> Any:
        if isinstance(value, torch.Tensor) or value not in self.options:
            raise invalid(name, value, self.describe(), label)
        return value


@dataclass(frozen=True)
class Pair:
    """A pair (or, with ``size``, a tuple) of numbers, each checked by ``each`` (e.g. Adam's ``betas``). The error
    names the number (a label with ``{i}``: torch's "beta parameter at index 1") or the whole pair (a label with
    ``{values}``: torch's "eta values: 1.0, 0.5")."""

    each: Interval
    size: int = 2
    last: Interval | None = None
    """A different interval for the last number (AdEMAMix's β3 may be 1)."""

    def describe(self) -> str:
        names = ", ".join(f"b{i + 1}" for i in range(self.size))
        last = f" (b{self.size}: {self.last.describe()})" if self.last else ""
        return f"{'a pair' if self.size == 2 else f'{self.size} numbers'} ({names}), each {self.each.describe()}{last}"

    def __call__(self, name: str, value: Any, label: str | None = None) -> Any:
        if (isinstance(value, (str, bytes, torch.Tensor)) or not hasattr(value, "__len__")
                or len(value) != self.size):
            raise invalid(name, value, self.describe())
        for i, v in enumerate(value):
            x = _as_real(f"{name}[{i}]", v)
            each = self.last if self.last is not None and i == self.size - 1 else self.each
            if not each.contains(x):
                if label and "{values}" in label:  # torch names the whole pair: "Invalid eta values: 1.0, 0.5"
                    head = "Invalid " + label.format(values=", ".join(map(str, value)))
                    raise ValueError(f"{head} ({name}[{i}]={_shown(v)}); allowed: {self.describe()}")
                raise invalid(f"{name}[{i}]", v, self.describe(), label.format(i=i) if label else None)
        kinds = {isinstance(v, torch.Tensor) for v in value}
        if len(kinds) != 1:  # torch.optim: both numbers or both tensors
            raise ValueError(f"{name} must be either both floats or both Tensors: got {name}={value}; allowed: "
                             f"{self.describe()}, both numbers or both one-element tensors")
        return tuple(value)


@dataclass(frozen=True)
class Optional:
    """None, or a value ``inner`` accepts (e.g. an optional number of warm-up steps)."""

    inner: Any

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"

    def __call__(self, name: str, value: Any, label: str | None = None) -> Any:
        if value is None:
            return None
        try:
            return self.inner(name, value, label) if label else self.inner(name, value)
        except ValueError:
            raise invalid(name, value, self.describe(), label) from None


@dataclass(frozen=True)
class Integer:
    """An integer (not a bool) in ``[minimum, maximum]``; returned as a Python int."""

    minimum: int = 1
    maximum: int | None = None

    def describe(self) -> str:
        return f"an integer >= {self.minimum}" if self.maximum is None else \
            f"an integer in [{self.minimum}, {self.maximum}]"

    def __call__(self, name: str, value: Any, label: str | None = None) -> int:
        if (isinstance(value, bool) or not isinstance(value, Integral) or value < self.minimum
                or (self.maximum is not None and value > self.maximum)):
            raise invalid(name, value, self.describe(), label)
        return int(value)


@dataclass(frozen=True)
class LrRange:
    """A learning-rate search range ``(low, high)``: both finite, ``0 < low <= high`` (``<`` if strict)."""

    strict: bool = False

    def describe(self) -> str:
        return f"(low, high) with 0 < low {'<' if self.strict else '<='} high, both finite"

    def problem(self, lo: float, hi: float) -> str | None:
        """What is wrong with ``(lo, hi)``, or None."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return "the range is not finite"
        if lo <= 0:
            return "the range is not positive"
        if hi < lo or (self.strict and hi == lo):
            return "the range is empty"
        return None

    def __call__(self, name: str, value: Any) -> tuple[float, float]:
        try:
            lo, hi = (_as_real(name, v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid {name}: {value!r}; allowed: {self.describe()}") from None
        why = self.problem(lo, hi)
        if why:
            raise ValueError(f"Invalid {name}: {value!r}; allowed: {self.describe()} ({why})")
        return lo, hi


BOOLEAN = Boolean()
BETAS = Pair(UNIT_HALF_OPEN)
POSITIVE_INT = Integer(1)
LR_RANGE = LrRange()
