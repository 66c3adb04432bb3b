"""Gradient descent and its momentum family: SGD → Momentum → NAG (presets of SGD)."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import DIFFERENTIABLE, FOREACH, FUSED, MAXIMIZE, WEIGHT_DECAY, Fixed, Hyper, Optimizer, lr
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, Trace, weight_decay
from optimlab.validation import BOOLEAN, NON_NEGATIVE, UNIT_CLOSED


def _nesterov_needs_momentum(group: Mapping[str, Any]) -> None:
    if group.get("nesterov") and (group["momentum"] <= 0 or group.get("dampening", 0) != 0):
        raise ValueError(
            f"Invalid nesterov=True with momentum={group['momentum']!r}, dampening={group.get('dampening', 0)!r}: "
            "Nesterov momentum requires a momentum and zero dampening; allowed: momentum > 0 and dampening = 0")


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum — torch.optim.SGD's update.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t = \mu b_{t-1} + (1-d) g_t \ (b_1 = g_1), \quad
        \theta_t = \theta_{t-1} - \eta \cdot \begin{cases} g_t + \mu b_t & \text{nesterov} \\
        b_t & \mu > 0 \\ g_t & \mu = 0 \end{cases}
    """

    name = "sgd"
    reference = "torch.optim.SGD"
    family = "gradient descent"
    summary = "Plain (stochastic) gradient descent; momentum and Nesterov as options."
    paper = "Robbins & Monro, A Stochastic Approximation Method, Ann. Math. Statist. 1951"
    sparse = True
    relations = (_nesterov_needs_momentum,)

    lr: float = lr(1e-3, search=(1e-4, 1.0))
    momentum: float = Hyper(0.0, NON_NEGATIVE, "momentum factor μ", label="momentum value")
    dampening: float = Hyper(0.0, UNIT_CLOSED, "dampening d of the momentum")
    weight_decay: float = WEIGHT_DECAY
    nesterov: bool = Hyper(False, BOOLEAN, "Nesterov momentum (needs momentum > 0 and dampening 0)")
    maximize: bool = MAXIMIZE
    foreach: bool | None = FOREACH
    differentiable: bool = DIFFERENTIABLE
    fused: bool | None = FUSED

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, mu = group["lr"], group["momentum"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            Trace(mu, group["dampening"], group["nesterov"]) if mu != 0 else None,
            Descend(lr),
        )


class Momentum(SGD):
    r"""Heavy-ball momentum (Polyak, 1964): :class:`SGD` with ``momentum=0.9``.

    .. math:: b_t = \mu b_{t-1} + (1-d) g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t
    """

    name = "momentum"
    reference = "torch.optim.SGD(momentum=0.9)"
    family = "momentum"
    summary = "SGD with heavy-ball momentum 0.9: velocity smooths the path through valleys."
    paper = "Polyak, Some methods of speeding up the convergence of iteration methods, USSR Comp. Math. 1964"
    parents = ("sgd",)

    momentum: float = SGD.momentum.but(default=0.9)
    nesterov = Fixed(False)


class NAG(SGD):
    r"""Nesterov accelerated gradient (Nesterov, 1983; Sutskever et al., 2013): :class:`SGD` with Nesterov
    momentum 0.9 — it steps with the gradient plus the momentum it is about to take.

    .. math:: b_t = \mu b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)
    """

    name = "nag"
    reference = "torch.optim.SGD(momentum=0.9, nesterov=True)"
    family = "momentum"
    summary = "Nesterov momentum: look ahead along the velocity before correcting."
    paper = "Sutskever, Martens, Dahl & Hinton, On the importance of initialization and momentum, ICML 2013"
    parents = ("momentum",)

    momentum: float = SGD.momentum.but(default=0.9)
    dampening = Fixed(0.0)
    nesterov = Fixed(True)
