"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import DIFFERENTIABLE, FOREACH, FUSED, MAXIMIZE, WEIGHT_DECAY, Hyper, Optimizer, lr
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByAdagrad, weight_decay
from optimlab.validation import NON_NEGATIVE


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients.

    .. math::
        s_t = s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\delta}\,\frac{g_t}{\sqrt{s_t} + \epsilon}
    """

    name = "adagrad"
    reference = "torch.optim.Adagrad"
    family = "adaptive"
    summary = "Per-coordinate steps shrink with the accumulated squared gradients; good for sparse features."
    paper = "Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning, JMLR 2011"
    parents = ("sgd",)
    sparse = True

    lr: float = lr(1e-2, search=(1e-3, 10.0))
    lr_decay: float = Hyper(0.0, NON_NEGATIVE, "learning-rate decay δ", label="lr_decay value")
    weight_decay: float = WEIGHT_DECAY
    initial_accumulator_value: float = Hyper(0.0, NON_NEGATIVE, "initial value s₀ of the sum",
                                             label="initial_accumulator_value value")
    eps: float = Hyper(1e-10, NON_NEGATIVE, "ε added to the denominator", label="epsilon value")
    foreach: bool | None = FOREACH.but(kw_only=False)
    maximize: bool = MAXIMIZE
    differentiable: bool = DIFFERENTIABLE
    fused: bool | None = FUSED

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr = group["lr"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdagrad(group["lr_decay"], group["eps"], group["initial_accumulator_value"]),
            Descend(lr),
        )
