"""Gradient descent and its momentum family: SGD → Momentum → NAG."""

from __future__ import annotations

from functools import partial
from typing import Any, Iterable, Literal

import torch

from optimlab.core.adapter import Optimizer
from optimlab.core.registry import SPARSE_GRADS, Spec, register
from optimlab.core.transform import Chain, chain
from optimlab.core.validation import BOOLEAN, NON_NEGATIVE, UNIT_CLOSED
from optimlab.transforms import ScaleByLearningRate, Trace, weight_decay

Impl = str
NonFinite = Literal["skip", "raise"] | None


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum — torch.optim.SGD's update.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        b_t = \mu b_{t-1} + (1-d) g_t \ (b_1 = g_1), \quad
        \theta_t = \theta_{t-1} - \eta \cdot \begin{cases} g_t + \mu b_t & \text{nesterov} \\
        b_t & \mu > 0 \\ g_t & \mu = 0 \end{cases}

    Defaults: ``lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False``.
    Paper: Robbins & Monro (1951); Polyak (1964); Sutskever et al. (2013) for the Nesterov form.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr, mu = float(group["lr"]), group["momentum"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            Trace(mu, group["dampening"], group["nesterov"]) if mu else None,
            ScaleByLearningRate(lr),
        )


class Momentum(SGD):
    r"""Heavy-ball momentum (Polyak, 1964): :class:`SGD` with ``momentum=0.9`` by default.

    .. math:: b_t = \mu b_{t-1} + (1-d) g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t

    Defaults: ``lr=1e-3, momentum=0.9, dampening=0, weight_decay=0``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0, *, maximize: bool = False, impl: Impl = "auto",
                 nonfinite: NonFinite = None) -> None:
        super().__init__(params, lr, momentum, dampening, weight_decay, nesterov=False, maximize=maximize,
                         impl=impl, nonfinite=nonfinite)


class NAG(SGD):
    r"""Nesterov accelerated gradient (Nesterov, 1983; Sutskever et al., 2013): :class:`SGD` with Nesterov
    momentum 0.9 — it steps with the gradient plus the momentum it is about to take.

    .. math:: b_t = \mu b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)

    Defaults: ``lr=1e-3, momentum=0.9, weight_decay=0``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0,
                 *, maximize: bool = False, impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, lr, momentum, 0.0, weight_decay, nesterov=True, maximize=maximize, impl=impl,
                         nonfinite=nonfinite)


def _nesterov_needs_momentum(group: dict[str, Any]) -> None:
    if group.get("nesterov") and (group["momentum"] <= 0 or group.get("dampening", 0) != 0):
        raise ValueError(
            f"Invalid nesterov=True with momentum={group['momentum']!r}, dampening={group.get('dampening', 0)!r}; "
            "allowed: Nesterov momentum needs momentum > 0 and dampening = 0")


_MOMENTUM_CHECKS = dict(lr=NON_NEGATIVE, momentum=NON_NEGATIVE, dampening=UNIT_CLOSED, weight_decay=NON_NEGATIVE,
                        nesterov=BOOLEAN)
register(Spec(
    name="sgd", cls=SGD, family="gradient descent",
    summary="Plain (stochastic) gradient descent; momentum and Nesterov as options.",
    paper="Robbins & Monro, A Stochastic Approximation Method, Ann. Math. Statist. 1951",
    parents=(), checks=_MOMENTUM_CHECKS, relations=(_nesterov_needs_momentum,), lr_range=(1e-4, 1.0),
    capabilities=SPARSE_GRADS, torch_equivalent=torch.optim.SGD,
    variants=({}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
              {"momentum": 0.5, "weight_decay": 0.1}, {"momentum": 0.9, "maximize": True}),
))
register(Spec(
    name="momentum", cls=Momentum, family="momentum",
    summary="SGD with heavy-ball momentum 0.9: velocity smooths the path through valleys.",
    paper="Polyak, Some methods of speeding up the convergence of iteration methods, USSR Comp. Math. 1964",
    parents=("sgd",), checks=_MOMENTUM_CHECKS, relations=(_nesterov_needs_momentum,), lr_range=(1e-4, 1.0),
    capabilities=SPARSE_GRADS, torch_equivalent=partial(torch.optim.SGD, momentum=0.9),
    variants=({}, {"dampening": 0.2}, {"maximize": True, "weight_decay": 0.1}),
))
register(Spec(
    name="nag", cls=NAG, family="momentum",
    summary="Nesterov momentum: look ahead along the velocity before correcting.",
    paper="Sutskever, Martens, Dahl & Hinton, On the importance of initialization and momentum, ICML 2013",
    parents=("momentum",), checks=_MOMENTUM_CHECKS, relations=(_nesterov_needs_momentum,), lr_range=(1e-4, 1.0),
    capabilities=SPARSE_GRADS, torch_equivalent=partial(torch.optim.SGD, momentum=0.9, nesterov=True),
    variants=({}, {"weight_decay": 0.1}, {"maximize": True, "momentum": 0.5}),
))
