"""Adam, and AdamW: Adam with decoupled weight decay (a preset)."""

from __future__ import annotations

from typing import Any, Mapping

from torch import Tensor

from optimlab.adapter import (BETAS, CAPTURABLE, DECOUPLED_WEIGHT_DECAY, DIFFERENTIABLE, EPS, FOREACH, FUSED,
                              MAXIMIZE, WEIGHT_DECAY, Fixed, Hyper, Optimizer, lr)
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByAdam, weight_decay
from optimlab.validation import BOOLEAN

PAPER = "Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015"


def _tensor_hypers_need_capturable_with_foreach(group: Mapping[str, Any]) -> None:
    """torch's Adam refuses tensor-valued ``lr`` or ``betas`` on its foreach path unless capturable."""
    if not group.get("foreach") or group.get("capturable"):
        return
    named = [("lr", group["lr"]), *((f"betas[{i}]", b) for i, b in enumerate(group["betas"]))]
    for name, value in named:
        if isinstance(value, Tensor):
            raise ValueError(f"{name} as a Tensor is not supported for capturable=False and foreach=True; allowed: "
                             f"a number for {name}, or foreach=False")


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
    """

    name = "adam"
    reference = "torch.optim.Adam"
    family = "adaptive"
    summary = "Momentum + RMSProp with bias-corrected moments; step size bounded by about lr."
    paper = PAPER
    parents = ("momentum", "rmsprop")
    relations = (_tensor_hypers_need_capturable_with_foreach,)

    lr: float = lr(1e-3, search=(1e-4, 1.0))
    betas: tuple[float, float] = BETAS
    eps: float = EPS
    weight_decay: float = WEIGHT_DECAY
    amsgrad: bool = Hyper(False, BOOLEAN, "use the running maximum of v (AMSGrad, Reddi et al. 2018)")
    foreach: bool | None = FOREACH
    maximize: bool = MAXIMIZE
    capturable: bool = CAPTURABLE
    differentiable: bool = DIFFERENTIABLE
    fused: bool | None = FUSED
    decoupled_weight_decay: bool = DECOUPLED_WEIGHT_DECAY.but(kw_only=True)

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, (b1, b2) = group["lr"], group["betas"]
        return chain(
            weight_decay(lr, group["weight_decay"], group["decoupled_weight_decay"]),
            ScaleByAdam(b1, b2, group["eps"], group["amsgrad"]),
            Descend(lr),
        )


class AdamW(Adam):
    r"""AdamW: :class:`Adam` with decoupled weight decay — the weights shrink before the Adam step, so the
    decay is not rescaled by the adaptive denominator.

    .. math::
        \theta_t = \theta_{t-1}(1-\eta\lambda) - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with Adam's bias-corrected moments :math:`\hat m_t, \hat v_t` of the plain gradient.
    """

    name = "adamw"
    reference = "torch.optim.AdamW"
    summary = "Adam with decoupled weight decay."
    paper = "Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019"
    parents = ("adam",)

    weight_decay: float = WEIGHT_DECAY.but(default=1e-2)
    decoupled_weight_decay = Fixed(True)
