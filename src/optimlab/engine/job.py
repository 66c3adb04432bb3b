"""A rule and the group it runs for: what the engine hands every implementation.

:class:`Rule` is an optimizer's recipe with the one thing the engine must know about its hyperparameters:
which group keys hold numbers (traced as scalars, recomputed every step) — the others (flags, choices)
select the chain's structure. :class:`Job` is one group's step: the rule, the group's values, and the
concrete chain built from them (the reference and foreach implementations run it directly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from torch import Tensor

from optimlab.rules import Chain


@dataclass(frozen=True, eq=False)
class Rule:
    """``recipe(group) -> Chain`` and the group keys it reads: ``numbers`` (a number or a pair of numbers)
    and ``flags`` (anything else that selects the chain's structure, e.g. ``amsgrad``)."""

    recipe: Callable[[Mapping[str, Any]], Chain]
    numbers: tuple[str, ...]
    flags: tuple[str, ...]


def _number(v: Any) -> Any:
    return v.item() if isinstance(v, Tensor) else v


@dataclass(eq=False)
class Job:
    """One group's step: its rule and values; ``differentiable`` runs it under autograd."""

    rule: Rule
    group: Mapping[str, Any]
    maximize: bool = False
    differentiable: bool = False
    _chain: Chain | None = field(default=None, repr=False)

    @property
    def chain(self) -> Chain:
        """The chain for the group's current values (tensor-valued hyperparameters as numbers, unless the
        step is differentiable: then they stay tensors, so gradients reach them)."""
        if self._chain is None:
            group = self.group
            if not self.differentiable:
                group = dict(group)
                for k in self.rule.numbers:
                    v = group[k]
                    group[k] = tuple(map(_number, v)) if isinstance(v, (tuple, list)) else _number(v)
            self._chain = self.rule.recipe(group)
        return self._chain

    def flags(self) -> tuple:
        return tuple(self.group.get(k) for k in self.rule.flags)
