"""The tests' reference catalogue: for every optimizer, what it must equal and the options that exercise it.

Like torch's ``OptimizerInfo`` database, this is test data and lives with the tests: one :class:`Reference`
per registry name. Adding an optimizer is its file in ``optimlab/optimizers`` plus one entry here; every
parametrised test (parity, checkpoints, engines, identities) reads this table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Mapping

import torch


@dataclass(frozen=True)
class Reference:
    """``make(params, **hypers)``: the implementation the optimizer must equal (None: no such implementation),
    whose for-loop (torch's ``foreach=False``) and foreach paths optimlab's ``reference`` and ``foreach`` paths
    equal bit for bit; ``variants``: option sets that together exercise every option."""

    make: Callable[..., torch.optim.Optimizer] | None
    variants: tuple[Mapping[str, Any], ...] = ({},)
    paths_differ: bool = False
    """torch's own foreach path is not bitwise equal to its for-loop (NAdam): optimlab's both follow the for-loop."""
    differentiable_rtol: float = 1e-12
    """How close gradients through a ``differentiable=True`` step come to torch's: torch's differentiable Adam takes
    its bias corrections from the fp32 step tensor (2e-5), its ASGD multiplies by a factor from the fp32 ``eta``
    in double precision where optimlab computes it in the state's dtype (1e-7)."""

    @property
    def is_torch(self) -> bool:
        """Whether the reference is a torch.optim class (it takes torch's ``foreach``/``fused`` flags)."""
        return getattr(getattr(self.make, "func", self.make), "__module__", "").startswith("torch.optim")

    def path(self, impl: str) -> dict[str, Any]:
        """The reference's keyword arguments for the path optimlab's ``impl`` equals bit for bit: torch's for-loop
        for ``"reference"``, its foreach path for ``"foreach"``; a third-party reference has one path."""
        if not self.is_torch:
            return {}
        return {"foreach": impl == "foreach" and not self.paths_differ}


def _optional(module: str, name: str) -> Callable[..., torch.optim.Optimizer] | None:
    """A reference from a test-only package (pinned in the ``test`` extra); None where it is not installed."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


CATALOGUE: dict[str, Reference] = {
    "sgd": Reference(torch.optim.SGD, (
        {}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
        {"momentum": 0.5, "weight_decay": 0.1}, {"momentum": 0.9, "maximize": True})),
    "momentum": Reference(partial(torch.optim.SGD, momentum=0.9), (
        {}, {"dampening": 0.2}, {"maximize": True, "weight_decay": 0.1})),
    "nag": Reference(partial(torch.optim.SGD, momentum=0.9, nesterov=True), (
        {}, {"weight_decay": 0.1}, {"maximize": True, "momentum": 0.5})),
    "adagrad": Reference(torch.optim.Adagrad, (
        {}, {"lr_decay": 0.01}, {"initial_accumulator_value": 0.1, "eps": 1e-6}, {"weight_decay": 0.1},
        {"maximize": True})),
    "rmsprop": Reference(torch.optim.RMSprop, (
        {}, {"centered": True}, {"momentum": 0.9}, {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
        {"maximize": True, "alpha": 0.9})),
    "adadelta": Reference(torch.optim.Adadelta, (
        {}, {"rho": 0.5, "eps": 1e-4}, {"weight_decay": 0.1}, {"maximize": True})),
    "adam": Reference(torch.optim.Adam, (
        {}, {"amsgrad": True}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
        {"maximize": True, "amsgrad": True}, {"betas": (0.5, 0.9), "eps": 1e-6}), differentiable_rtol=2e-5),
    "adamw": Reference(torch.optim.AdamW, (
        {}, {"amsgrad": True}, {"maximize": True, "weight_decay": 0.3}), differentiable_rtol=2e-5),
    "nadam": Reference(torch.optim.NAdam, (
        {}, {"momentum_decay": 0.01}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
        {"maximize": True}), paths_differ=True),
    "adamax": Reference(torch.optim.Adamax, (
        {}, {"weight_decay": 0.1}, {"maximize": True, "betas": (0.8, 0.99)})),
    "radam": Reference(torch.optim.RAdam, (
        {}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
        {"betas": (0.8, 0.9), "eps": 1e-6}, {"maximize": True}), paths_differ=True),
    "asgd": Reference(torch.optim.ASGD, (
        {}, {"t0": 3.0, "lambd": 1e-3}, {"weight_decay": 0.1, "alpha": 0.5}, {"maximize": True, "t0": 10.0}), paths_differ=True,
        differentiable_rtol=1e-7),
    "rprop": Reference(torch.optim.Rprop, (
        {}, {"etas": (0.3, 1.5)}, {"step_sizes": (1e-3, 0.02)}, {"maximize": True, "etas": (0.6, 1.1)})),
    "ademamix": Reference(_optional("pytorch_optimizer", "AdEMAMix"), (
        {}, {"t_alpha_beta3": 40.0}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "weight_decouple": True},
        {"weight_decay": 0.1, "weight_decouple": True, "fixed_decay": True, "alpha": 2.0, "betas": (0.8, 0.99, 0.999)},
        {"maximize": True, "t_alpha_beta3": 100.0})),
    "lion": Reference(_optional("lion_pytorch", "Lion"), (
        {}, {"weight_decay": 0.1}, {"betas": (0.95, 0.98), "weight_decay": 1.0, "decoupled_weight_decay": True}),
        ),
}
