"""Adagrad → RMSProp → AdaDelta: per-coordinate learning rates from the gradients' history."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from optimlab.core.adapter import Optimizer
from optimlab.core.registry import SPARSE_GRADS, Spec, register
from optimlab.core.transform import Chain, chain
from optimlab.core.validation import BOOLEAN, NON_NEGATIVE, UNIT_CLOSED
from optimlab.optimizers.sgd import Impl, NonFinite
from optimlab.transforms import ScaleByAdadelta, ScaleByAdagrad, ScaleByLearningRate, ScaleByRms, Trace, weight_decay


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients.

    .. math::
        s_t = s_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\delta}\,\frac{g_t}{\sqrt{s_t} + \epsilon}

    Defaults: ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10``.
    Paper: Duchi, Hazan & Singer, Adaptive Subgradient Methods, JMLR 2011.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False,
                 impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize, impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr = float(group["lr"])
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdagrad(group["lr_decay"], group["eps"], group["initial_accumulator_value"]),
            ScaleByLearningRate(lr),
        )


class RMSprop(Optimizer):
    r"""RMSProp: Adagrad with a leaky (exponentially averaged) accumulator, so steps do not vanish.

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) g_t^2, \qquad
        \theta_t = \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{s_t - [\bar g_t^2]} + \epsilon}

    ``centered`` subtracts the squared running mean :math:`\bar g_t`; ``momentum`` > 0 accumulates the
    scaled step in a buffer :math:`b_t = \mu b_{t-1} + g_t / (\cdot)` and steps by :math:`\eta b_t`.
    Defaults: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False``.
    Paper: Hinton, Neural Networks for Machine Learning, lecture 6e (2012); Graves (2013) for centred.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize, impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr, mu = float(group["lr"]), group["momentum"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByRms(group["alpha"], group["eps"], group["centered"]),
            Trace(mu) if mu else None,
            ScaleByLearningRate(lr),
        )


class Adadelta(Optimizer):
    r"""AdaDelta: RMSProp whose step is rescaled by the RMS of past steps, so units match and ``lr`` ≈ 1.

    .. math::
        s_t = \rho s_{t-1} + (1-\rho) g_t^2, \quad
        \Delta_t = \frac{\sqrt{a_{t-1}+\epsilon}}{\sqrt{s_t+\epsilon}}\, g_t, \quad
        a_t = \rho a_{t-1} + (1-\rho)\Delta_t^2, \quad \theta_t = \theta_{t-1} - \eta\,\Delta_t

    Defaults: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0``.
    Paper: Zeiler, ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701 (2012).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False, impl: Impl = "auto",
                 nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr = float(group["lr"])
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdadelta(group["rho"], group["eps"]),
            ScaleByLearningRate(lr),
        )


register(Spec(
    name="adagrad", cls=Adagrad, family="adaptive",
    summary="Per-coordinate steps shrink with the accumulated squared gradients; good for sparse features.",
    paper="Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning, JMLR 2011",
    parents=("sgd",), lr_range=(1e-3, 10.0), capabilities=SPARSE_GRADS, torch_equivalent=torch.optim.Adagrad,
    checks=dict(lr=NON_NEGATIVE, lr_decay=NON_NEGATIVE, weight_decay=NON_NEGATIVE,
                initial_accumulator_value=NON_NEGATIVE, eps=NON_NEGATIVE),
    variants=({}, {"lr_decay": 0.01}, {"initial_accumulator_value": 0.1, "eps": 1e-6}, {"weight_decay": 0.1},
              {"maximize": True}),
))
register(Spec(
    name="rmsprop", cls=RMSprop, family="adaptive",
    summary="Adagrad with an exponential moving average of squared gradients.",
    paper="Hinton, Srivastava & Swersky, Neural Networks for Machine Learning, Lecture 6e, 2012",
    parents=("adagrad",), lr_range=(1e-5, 1.0), torch_equivalent=torch.optim.RMSprop,
    checks=dict(lr=NON_NEGATIVE, alpha=UNIT_CLOSED, eps=NON_NEGATIVE, weight_decay=NON_NEGATIVE,
                momentum=NON_NEGATIVE, centered=BOOLEAN),
    variants=({}, {"centered": True}, {"momentum": 0.9}, {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
              {"maximize": True, "alpha": 0.9}),
))
register(Spec(
    name="adadelta", cls=Adadelta, family="adaptive",
    summary="RMSProp with steps rescaled by the RMS of past updates; no learning rate to pick (lr=1).",
    paper="Zeiler, ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701, 2012",
    parents=("rmsprop",), lr_range=(1e-2, 10.0), torch_equivalent=torch.optim.Adadelta,
    checks=dict(lr=NON_NEGATIVE, rho=UNIT_CLOSED, eps=NON_NEGATIVE, weight_decay=NON_NEGATIVE),
    variants=({}, {"rho": 0.5, "eps": 1e-4}, {"weight_decay": 0.1}, {"maximize": True}),
))
