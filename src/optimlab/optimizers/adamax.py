"""Adamax: Adam with the infinity norm."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import BETAS, CAPTURABLE, DIFFERENTIABLE, EPS, FOREACH, MAXIMIZE, WEIGHT_DECAY, Optimizer, lr
from optimlab.optimizers.adam import PAPER
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByAdamax, weight_decay


class Adamax(Optimizer):
    r"""Adamax: Adam with the infinity norm in place of the RMS.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad n_t = \max(\beta_2 n_{t-1}, |g_t| + \epsilon), \quad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{n_t}
    """

    name = "adamax"
    reference = "torch.optim.Adamax"
    family = "adaptive"
    summary = "Adam with the infinity norm of past gradients in the denominator."
    paper = PAPER + ", section 7.1"
    parents = ("adam",)

    lr: float = lr(2e-3, search=(1e-4, 1.0))
    betas: tuple[float, float] = BETAS
    eps: float = EPS
    weight_decay: float = WEIGHT_DECAY
    foreach: bool | None = FOREACH.but(kw_only=False)
    maximize: bool = MAXIMIZE
    differentiable: bool = DIFFERENTIABLE
    capturable: bool = CAPTURABLE

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, (b1, b2) = group["lr"], group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdamax(b1, b2, group["eps"]),
            Descend(lr),
        )
