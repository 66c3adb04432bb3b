"""The rule API: transforms, the state they declare, and the deferred update they hand on.

An optimizer is a *recipe*: a chain of transforms applied left to right to the update direction ``u``
(a list of tensors, one per parameter, starting as the gradient). Each transform is written once,
against the list operations of :mod:`optimlab.rules.ops`; the engine decides how it runs.

Conventions every transform keeps:

* ``u`` is never modified in place (it may be the user's ``p.grad``): out-of-place ops on it.
* State is declared: :class:`Slot` (per-parameter tensors, under torch.optim's state keys) and
  :class:`ScalarSlot` (per-parameter 0-d tensors, e.g. NAdam's ``mu_product``). ``step_counter`` marks a
  transform whose reference keeps a step count: ``True`` a per-parameter ``step`` tensor (torch.optim),
  ``"group"`` an integer ``step`` in the param group (as many third-party optimizers keep it). The engine
  keeps it and passes it as ``ctx.step`` (already incremented: the first step is 1); torch's SGD keeps none,
  so neither does ours.
* Scalars are computed with plain Python arithmetic (``1 - b1 ** ctx.step``), never ``float()`` or
  ``math``: the same code runs on floats (reference, foreach), on traced scalars (generated kernels, which
  recompute them each step without tracing again) and on tensors (``differentiable=True``).
* The last link (:class:`optimlab.transforms.Descend`) writes the parameters, in torch's arithmetic.
  A transform may hand on a :class:`Term` tuple — "``a·num/den`` per tensor, not yet computed" — instead
  of a list, so that the parameter update is one ``addcdiv`` with torch's coefficient, exactly as torch
  computes it (``value = -lr·a/b``), rather than a division now and a multiplication later.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable, Sequence, Union


from optimlab.rules.ops import OPS, TABLE, AutogradOps, ForeachOps, LoopOps, Op


@dataclass(frozen=True)
class Slot:
    """A per-parameter state buffer shaped like the parameter, filled with ``init`` when created."""

    name: str
    init: float = 0.0


@dataclass(frozen=True)
class ScalarSlot:
    """A per-parameter 0-d state tensor (in the scalar dtype, like ``step``), created as ``init``."""

    name: str
    init: float = 1.0


@dataclass(frozen=True)
class Term:
    r"""A deferred update :math:`\frac{a}{b}\cdot\frac{\text{num}}{\text{den}}` per tensor (``den`` None: no
    division). The descent link turns it into torch's in-place call with coefficient :math:`-\eta a / b`, or
    :math:`-a / b` when the rule has already multiplied by the learning rate (``scaled=True``, RAdam)."""

    num: Sequence[Any]
    den: Sequence[Any] | None = None
    a: Any = 1.0
    b: Any = 1.0
    scaled: bool = False


Direction = Union[list, tuple]  # a list of tensors, or a tuple of Terms


@dataclass
class Context:
    """What a transform sees besides ``u``: the parameters, its state, the step and scalar state.

    ``scale_scalar_(name, factor)`` multiplies scalar state ``name`` by ``factor`` in the state's own dtype
    (as torch's ``mu_product *= mu``) and returns the new value; ``set_scalar_(name, value)`` stores ``value``
    rounded to the state's dtype (as torch's ``eta.copy_(new_eta)``) and returns what was stored. The engine
    supplies both.
    """

    params: Sequence[Any]
    state: dict[str, Sequence[Any]]
    step: Any = None
    fresh: bool = False
    scalars: dict[str, Any] | None = None
    scale: Callable[[str, Any], Any] | None = None
    assign: Callable[[str, Any], Any] | None = None

    def scalar(self, name: str) -> Any:
        return self.scalars[name]

    def scale_scalar_(self, name: str, factor: Any) -> Any:
        value = self.scale(name, factor)
        self.scalars[name] = value
        return value

    def set_scalar_(self, name: str, value: Any) -> Any:
        stored = self.assign(name, value)
        self.scalars[name] = stored
        return stored


class Transform(abc.ABC):
    """Base class: subclasses set ``slots`` / ``scalar_slots`` / ``step_counter`` and implement :meth:`apply`."""

    slots: tuple[Slot, ...] = ()
    scalar_slots: tuple[ScalarSlot, ...] = ()
    step_counter: bool | str = False

    @abc.abstractmethod
    def apply(self, ops: Any, u: Direction, ctx: Context) -> Direction | None:
        """The new update direction for the tensors in ``ctx`` (None from the link that wrote the params)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


Chain = tuple[Transform, ...]


def chain(*transforms: Transform | None) -> Chain:
    """A recipe: transforms applied left to right; ``None`` entries (disabled options) are dropped."""
    return tuple(t for t in transforms if t is not None)


def as_terms(u: Direction) -> tuple[Term, ...]:
    """``u`` as deferred terms (a list is one term)."""
    return u if isinstance(u, tuple) else (Term(u),)


def materialize(ops: Any, u: Direction) -> list:
    """``u`` as a list of new tensors (a transform that needs the values now)."""
    if not isinstance(u, tuple):
        return u
    out = None
    for t in u:
        x = ops.div(t.num, t.den) if t.den is not None else ops.scale(t.num, 1.0)
        if t.a != 1.0:
            x = ops.scale_(x, t.a)
        if t.b != 1.0:
            x = ops.div_scalar_(x, t.b)
        out = x if out is None else ops.add_(out, x, 1.0)
    return out


def accumulate_(ops: Any, target: Sequence[Any], u: Direction, factor: Any = 1.0) -> Sequence[Any]:
    """``target += factor · u`` in torch's form: ``addcdiv_`` for a term with a denominator, ``add_`` otherwise."""
    for t in as_terms(u):
        coef = factor * t.a / t.b if (t.a != 1.0 or t.b != 1.0) else factor
        if t.den is not None:
            ops.addcdiv_(target, t.num, t.den, coef)
        else:
            ops.add_(target, t.num, coef)
    return target


__all__ = ["AutogradOps", "Chain", "Context", "Direction", "ForeachOps", "LoopOps", "OPS", "Op", "ScalarSlot", "Slot",
           "TABLE", "Term", "Transform", "accumulate_", "as_terms", "chain", "materialize"]
