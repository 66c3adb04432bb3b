"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import (BETAS, CAPTURABLE, DECOUPLED_WEIGHT_DECAY, DIFFERENTIABLE, EPS, FOREACH, MAXIMIZE,
                              WEIGHT_DECAY, Hyper, Optimizer, lr)
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByNadam, weight_decay
from optimlab.validation import NON_NEGATIVE


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum step is Nesterov's, with Dozat's momentum-decay schedule.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi}), \quad \Pi_t = \textstyle\prod_{i\le t}\mu_i, \quad
        \theta_t = \theta_{t-1} - \eta\left[\frac{1-\mu_t}{1-\Pi_t}\, g_t
            + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\, m_t\right] \Big/ \left(\sqrt{\hat v_t} + \epsilon\right)

    with Adam's :math:`m_t, \hat v_t` and :math:`\psi` = ``momentum_decay``.
    """

    name = "nadam"
    reference = "torch.optim.NAdam"
    family = "adaptive"
    summary = "Adam with Nesterov momentum (and a momentum-decay schedule)."
    paper = "Dozat, Incorporating Nesterov Momentum into Adam, ICLR 2016 workshop"
    parents = ("adam", "nag")

    lr: float = lr(2e-3, search=(1e-4, 1.0))
    betas: tuple[float, float] = BETAS
    eps: float = EPS
    weight_decay: float = WEIGHT_DECAY
    momentum_decay: float = Hyper(4e-3, NON_NEGATIVE, "momentum decay ψ", label="momentum_decay value")
    decoupled_weight_decay: bool = DECOUPLED_WEIGHT_DECAY
    foreach: bool | None = FOREACH
    maximize: bool = MAXIMIZE
    capturable: bool = CAPTURABLE
    differentiable: bool = DIFFERENTIABLE

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, (b1, b2) = group["lr"], group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"], group["decoupled_weight_decay"]),
            ScaleByNadam(b1, b2, group["eps"], group["momentum_decay"]),
            Descend(lr),
        )
