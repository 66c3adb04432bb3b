"""AdaDelta: RMSprop whose step is rescaled by the RMS of past steps."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import CAPTURABLE, DIFFERENTIABLE, FOREACH, MAXIMIZE, WEIGHT_DECAY, Hyper, Optimizer, lr
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByAdadelta, weight_decay
from optimlab.validation import NON_NEGATIVE, UNIT_CLOSED


class Adadelta(Optimizer):
    r"""AdaDelta: RMSProp whose step is rescaled by the RMS of past steps, so units match and ``lr`` ≈ 1.

    .. math::
        s_t = \rho s_{t-1} + (1-\rho) g_t^2, \quad
        \Delta_t = \frac{\sqrt{a_{t-1}+\epsilon}}{\sqrt{s_t+\epsilon}}\, g_t, \quad
        a_t = \rho a_{t-1} + (1-\rho)\Delta_t^2, \quad \theta_t = \theta_{t-1} - \eta\,\Delta_t
    """

    name = "adadelta"
    reference = "torch.optim.Adadelta"
    family = "adaptive"
    summary = "RMSProp with steps rescaled by the RMS of past updates; no learning rate to pick (lr=1)."
    paper = "Zeiler, ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701, 2012"
    parents = ("rmsprop",)

    lr: float = lr(1.0, search=(1e-2, 10.0))
    rho: float = Hyper(0.9, UNIT_CLOSED, "decay rate ρ of both running averages", label="rho value")
    eps: float = Hyper(1e-6, NON_NEGATIVE, "ε inside both square roots", label="epsilon value")
    weight_decay: float = WEIGHT_DECAY
    foreach: bool | None = FOREACH.but(kw_only=False)
    capturable: bool = CAPTURABLE
    maximize: bool = MAXIMIZE
    differentiable: bool = DIFFERENTIABLE

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr = group["lr"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdadelta(group["rho"], group["eps"]),
            Descend(lr),
        )
