"""Adam and its variants: AdamW (decoupled decay), NAdam (Nesterov), Adamax (infinity norm)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from optimlab.core.adapter import Optimizer
from optimlab.core.registry import Spec, register
from optimlab.core.transform import Chain, chain
from optimlab.core.validation import BETAS, BOOLEAN, NON_NEGATIVE
from optimlab.optimizers.sgd import Impl, NonFinite
from optimlab.transforms import ScaleByAdam, ScaleByAdamax, ScaleByLearningRate, ScaleByNadam, weight_decay


class Adam(Optimizer):
    r"""Adam: momentum (first moment) + RMSProp (second moment) + bias correction of both.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        \hat m_t = m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t), \qquad
        \theta_t = \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    :math:`m_0 = v_0 = 0`; the corrections undo their pull towards zero in the first steps. The step is
    bounded: :math:`|\Delta\theta| \lesssim \eta` (Kingma & Ba, §2.1). ``amsgrad`` uses the running
    maximum of :math:`v_t`; ``weight_decay`` adds :math:`\lambda\theta` to the gradient, or with
    ``decoupled_weight_decay=True`` shrinks the weights by :math:`1-\eta\lambda` (that is AdamW).
    Defaults: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False``.
    Paper: Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                                      impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr, (b1, b2) = float(group["lr"]), group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"], group["decoupled_weight_decay"]),
            ScaleByAdam(b1, b2, group["eps"], group["amsgrad"]),
            ScaleByLearningRate(lr),
        )


class AdamW(Adam):
    r"""AdamW: :class:`Adam` with decoupled weight decay — the weights shrink before the Adam step, so the
    decay is not rescaled by the adaptive denominator.

    .. math::
        \theta_t = \theta_{t-1}(1-\eta\lambda) - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with Adam's bias-corrected moments :math:`\hat m_t, \hat v_t` of the plain gradient.

    Defaults: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False``.
    Paper: Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 impl: Impl = "auto", nonfinite: NonFinite = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, impl=impl, nonfinite=nonfinite)


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum step is Nesterov's, with Dozat's momentum-decay schedule.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi}), \quad \Pi_t = \textstyle\prod_{i\le t}\mu_i, \quad
        \theta_t = \theta_{t-1} - \eta\left[\frac{1-\mu_t}{1-\Pi_t}\, g_t
            + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\, m_t\right] \Big/ \left(\sqrt{\hat v_t} + \epsilon\right)

    with Adam's :math:`m_t, \hat v_t` and :math:`\psi` = ``momentum_decay``.
    Defaults: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3``.
    Paper: Dozat, Incorporating Nesterov Momentum into Adam, ICLR 2016 workshop.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False, impl: Impl = "auto",
                 nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr, (b1, b2) = float(group["lr"]), group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"], group["decoupled_weight_decay"]),
            ScaleByNadam(b1, b2, group["eps"], group["momentum_decay"]),
            ScaleByLearningRate(lr),
        )


class Adamax(Optimizer):
    r"""Adamax: :class:`Adam` with the infinity norm in place of the RMS.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad n_t = \max(\beta_2 n_{t-1}, |g_t| + \epsilon), \quad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{n_t}

    Defaults: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0``.
    Paper: Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015, §7.1.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, *, maximize: bool = False, impl: Impl = "auto",
                 nonfinite: NonFinite = None) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      impl=impl, nonfinite=nonfinite))

    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:
        lr, (b1, b2) = float(group["lr"]), group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByAdamax(b1, b2, group["eps"]),
            ScaleByLearningRate(lr),
        )


_ADAM_CHECKS = dict(lr=NON_NEGATIVE, betas=BETAS, eps=NON_NEGATIVE, weight_decay=NON_NEGATIVE, amsgrad=BOOLEAN,
                    decoupled_weight_decay=BOOLEAN, momentum_decay=NON_NEGATIVE)
_ADAM_PAPER = "Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015"
register(Spec(
    name="adam", cls=Adam, family="adaptive",
    summary="Momentum + RMSProp with bias-corrected moments; step size bounded by about lr.",
    paper=_ADAM_PAPER, parents=("momentum", "rmsprop"), checks=_ADAM_CHECKS, lr_range=(1e-4, 1.0),
    torch_equivalent=torch.optim.Adam,
    variants=({}, {"amsgrad": True}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
              {"maximize": True, "amsgrad": True}, {"betas": (0.5, 0.9), "eps": 1e-6}),
))
register(Spec(
    name="adamw", cls=AdamW, family="adaptive",
    summary="Adam with decoupled weight decay.",
    paper="Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019",
    parents=("adam",), checks=_ADAM_CHECKS, lr_range=(1e-4, 1.0), torch_equivalent=torch.optim.AdamW,
    variants=({}, {"amsgrad": True}, {"maximize": True, "weight_decay": 0.3}),
))
register(Spec(
    name="nadam", cls=NAdam, family="adaptive",
    summary="Adam with Nesterov momentum (and a momentum-decay schedule).",
    paper="Dozat, Incorporating Nesterov Momentum into Adam, ICLR 2016 workshop",
    parents=("adam", "nag"), checks=_ADAM_CHECKS, lr_range=(1e-4, 1.0), torch_equivalent=torch.optim.NAdam,
    variants=({}, {"momentum_decay": 0.01}, {"weight_decay": 0.1},
              {"weight_decay": 0.1, "decoupled_weight_decay": True}, {"maximize": True}),
))
register(Spec(
    name="adamax", cls=Adamax, family="adaptive",
    summary="Adam with the infinity norm of past gradients in the denominator.",
    paper=_ADAM_PAPER + ", section 7.1", parents=("adam",), checks=_ADAM_CHECKS, lr_range=(1e-4, 1.0),
    torch_equivalent=torch.optim.Adamax,
    variants=({}, {"weight_decay": 0.1}, {"maximize": True, "betas": (0.8, 0.99)}),
))
