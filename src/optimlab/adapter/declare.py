"""Declaring an optimizer's hyperparameters once: name, default, constraint, meaning.

An optimizer class lists its hyperparameters as class attributes, in torch.optim's argument order, the
way a dataclass lists its fields::

    class Adam(Optimizer):
        lr: float = Hyper(1e-3, NON_NEGATIVE, "learning rate η", label="learning rate", search=(1e-4, 1.0))
        betas: tuple[float, float] = Hyper((0.9, 0.999), BETAS, "decay rates (β1, β2) of the two moments")
        ...
        foreach: bool | None = FOREACH

From that one statement the class gets its constructor (a real signature: ``Adam(params, lr=0.001,
betas=(0.9, 0.999), ..., *, foreach=None, ...)``; unknown or missing arguments raise ``TypeError`` as
Python does), the validation of every param group, the "Defaults" line of its docstring, the registry's
hyperparameter table and the engine's knowledge of which group keys are numbers. A preset subclass
(``AdamW``, ``Momentum``) overrides a default by restating the field, or fixes one with :class:`Fixed`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from optimlab.validation import BOOLEAN, NON_NEGATIVE, UNIT_HALF_OPEN, Choice, Interval, Optional, Pair

Constraint = Callable[..., Any]


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its default, its constraint, what it means (``doc``), torch's wording for it in
    error messages (``label``), whether it is keyword-only, for ``lr`` the search range of the tuner, and for a
    switch of the engine's path which value selects which ``impl``."""

    default: Any
    check: Constraint
    doc: str = ""
    label: str | None = None
    kw_only: bool = False
    search: tuple[float, float] | None = None
    selects: tuple[tuple[Any, str], ...] = ()
    """For a switch that chooses the engine's path (torch's ``foreach``/``fused``, lion-pytorch's ``use_triton``):
    ``(value, impl)`` pairs — the value selects that ``impl`` when the group leaves ``impl="auto"``."""

    def but(self, **changes: Any) -> "Hyper":
        """This hyperparameter with some attributes changed (a preset's new default, say)."""
        return replace(self, **changes)

    @property
    def is_number(self) -> bool:
        """Whether the engine traces its value as a number (a changing value needs no new kernel)."""
        check = self.check.inner if isinstance(self.check, Optional) else self.check
        return isinstance(check, (Interval, Pair))

    @property
    def allowed(self) -> str:
        describe = getattr(self.check, "describe", None)
        return describe() if describe else ""

    def validate(self, name: str, value: Any) -> Any:
        return self.check(name, value, self.label) if self.label else self.check(name, value)


@dataclass(frozen=True)
class Derived:
    """A group key that is not an argument: at construction it takes the value of argument ``source`` (lion-pytorch's
    decoupled weight decay divides by the lr the optimizer was built with, whatever a scheduler does later)."""

    source: str


@dataclass(frozen=True)
class Fixed:
    """A preset's fixed value of a parent's option: out of the signature, in every group (NAG: ``nesterov``).
    A param group may still set it; it is then checked with the parent's constraint."""

    value: Any


# -- torch.optim's engine flags, accepted with torch's meaning (each optimizer places them as torch does) ----

FOREACH = Hyper(None, Choice((None, True, False)),
                "torch's multi-tensor switch: True runs impl='foreach', False impl='reference'", kw_only=True,
                selects=((True, "foreach"), (False, "reference")))
FUSED = Hyper(None, Choice((None, True, False)),
              "torch's fused switch: True runs the generated kernel of the tensors' device (impl='fused')",
              kw_only=True, selects=((True, "fused"),))
DIFFERENTIABLE = Hyper(False, BOOLEAN, "gradients flow through the step (autograd; runs the reference path)",
                       kw_only=True)
CAPTURABLE = Hyper(False, BOOLEAN, "CUDA-graph capturable step, as torch (CUDA only; refused on CPU)",
                   kw_only=True)
MAXIMIZE = Hyper(False, BOOLEAN, "maximize the objective instead of minimizing it", kw_only=True)
TORCH_FLAGS = ("foreach", "fused", "differentiable", "capturable")


def collect(cls: type) -> tuple[dict[str, Hyper], dict[str, Any], dict[str, Hyper], dict[str, str]]:
    """The hyperparameters of ``cls`` (base classes first, in declaration order), its fixed options, the
    constraints of the fixed options (their parents' hyperparameters) and its derived keys (name -> source)."""
    hypers: dict[str, Hyper] = {}
    fixed: dict[str, Any] = {}
    fixed_checks: dict[str, Hyper] = {}
    derived: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Hyper):
                fixed.pop(name, None)
                fixed_checks.pop(name, None)
                hypers[name] = value
            elif isinstance(value, Fixed):
                parent = hypers.pop(name, None) or fixed_checks.get(name)
                if parent is not None:
                    fixed_checks[name] = parent
                fixed[name] = value.value
            elif isinstance(value, Derived):
                derived[name] = value.source
    return hypers, fixed, fixed_checks, derived


def signature(hypers: Mapping[str, Hyper]) -> inspect.Signature:
    """``(self, params, <positional hyperparameters>, *, <keyword-only ones>)``."""
    kind = inspect.Parameter
    params = [kind("self", kind.POSITIONAL_OR_KEYWORD), kind("params", kind.POSITIONAL_OR_KEYWORD)]
    params += [kind(n, kind.POSITIONAL_OR_KEYWORD, default=h.default) for n, h in hypers.items() if not h.kw_only]
    params += [kind(n, kind.KEYWORD_ONLY, default=h.default) for n, h in hypers.items() if h.kw_only]
    return inspect.Signature(params)


def defaults_line(hypers: Mapping[str, Hyper], skip: tuple[str, ...] = ()) -> str:
    """``Defaults: lr=0.001, betas=(0.9, 0.999), ...`` for the docstring."""
    return "Defaults: " + ", ".join(f"``{n}={_fmt(h.default)}``" for n, h in hypers.items() if n not in skip) + "."


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return repr(value)


# -- hyperparameters many optimizers share, worded as torch.optim words them ------------------------------

def lr(default: float, search: tuple[float, float]) -> Hyper:
    """The learning rate, with the tuner's log-spaced search range."""
    return Hyper(default, NON_NEGATIVE, "learning rate η", label="learning rate", search=search)


WEIGHT_DECAY = Hyper(0.0, NON_NEGATIVE, "weight decay λ (L2 penalty added to the gradient)", label="weight_decay value")
EPS = Hyper(1e-8, NON_NEGATIVE, "ε added to the denominator for numerical stability", label="epsilon value")
DECOUPLED_WEIGHT_DECAY = Hyper(False, BOOLEAN, "shrink the weights by 1 - ηλ instead of adding λθ to the gradient "
                               "(as AdamW)")
BETAS = Hyper((0.9, 0.999), Pair(UNIT_HALF_OPEN), "decay rates (β1, β2) of the first and second moments",
              label="beta parameter at index {i}")
