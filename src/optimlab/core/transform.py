"""Transforms: the building blocks every optimizer is a chain of.

A transform maps the incoming update direction ``u`` (a list of tensors, one per parameter) to a new
one, reading and writing its own declared state. It is written once, against the list operations of
:mod:`optimlab.core.ops`, and the engine decides how it runs (tensor by tensor, multi-tensor, fused).

Conventions every transform keeps:

* ``u`` is never modified in place (it may be the user's ``p.grad``): use out-of-place ops on it.
* State buffers are declared as :class:`Slot` (per-parameter tensors, named with torch.optim's state
  keys) and :class:`ScalarSlot` (per-parameter 0-d tensors, e.g. NAdam's ``mu_product``).
* Everything a transform needs besides state comes from ``ctx``: the parameters, the step count ``t``
  (already incremented: the first step is ``t = 1``), and whether its state was created this step.
* The final update is *added* to the parameters, so the learning-rate transform carries the sign.
"""

from __future__ import annotations

import abc

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import Tensor


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


@dataclass
class Context:
    """What the engine hands each transform for one bucket of tensors that share a step count."""

    params: Sequence[Tensor]
    state: dict[str, Sequence[Tensor]]
    step: int
    fresh: bool = False
    scalars: dict[str, tuple[Sequence[Tensor], float]] = field(default_factory=dict)

    def scalar(self, name: str) -> float:
        return self.scalars[name][1]

    def scale_scalar_(self, name: str, factor: float) -> float:
        """Multiply scalar state ``name`` by ``factor`` in its own dtype (as torch does); return the new value."""
        tensors, _ = self.scalars[name]
        if tensors:
            from optimlab.core import fused

            values = fused.scale_scalars(tensors, factor) if fused.available() else None
            if values is None:
                torch._foreach_mul_(list(tensors), factor)
                values = [tensors[0].item()]
            value = values[0]
        else:
            value = self.scalars[name][1] * factor
        self.scalars[name] = (tensors, value)
        return value


class Transform(abc.ABC):
    """Base class: subclasses set ``slots`` / ``scalar_slots`` and implement :meth:`apply`."""

    slots: tuple[Slot, ...] = ()
    scalar_slots: tuple[ScalarSlot, ...] = ()

    @abc.abstractmethod
    def apply(self, ops: Any, u: list[Tensor], ctx: Context) -> list[Tensor]:
        """Return the new update direction for the tensors in ``ctx``."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


Chain = tuple[Transform, ...]


def chain(*transforms: Transform | None) -> Chain:
    """A recipe: transforms applied left to right; ``None`` entries (disabled options) are dropped."""
    return tuple(t for t in transforms if t is not None)
