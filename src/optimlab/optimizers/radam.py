"""RAdam: Adam whose adaptive step is switched on, and rectified, once the second moment's estimate is reliable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from optimlab.adapter import (BETAS, CAPTURABLE, DECOUPLED_WEIGHT_DECAY, DIFFERENTIABLE, EPS, FOREACH, MAXIMIZE,
                              WEIGHT_DECAY, Optimizer, lr)
from optimlab.rules import Chain, Slot, Term, Transform, chain
from optimlab.transforms import Descend, weight_decay
from optimlab.transforms.adaptive import ema_, ema_sq_


@dataclass(repr=False)
class ScaleByRAdam(Transform):
    r"""RAdam's step, in torch.optim's arithmetic (it multiplies by the learning rate itself).

    .. math::
        \rho_\infty = \frac{2}{1-\beta_2} - 1, \quad \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}, \quad
        u \leftarrow \eta\,\frac{m_t}{1-\beta_1^t} \cdot
        \begin{cases} \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\, r_t & \rho_t > 5 \\ 1 & \text{otherwise}\end{cases},
        \quad r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
    """

    lr: Any
    b1: Any = 0.9
    b2: Any = 0.999
    eps: Any = 1e-8
    slots = (Slot("exp_avg"), Slot("exp_avg_sq"))
    step_counter = True

    def apply(self, ops, u, ctx):
        t = ctx.step
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        bias_correction1 = 1 - self.b1 ** t
        bias_correction2 = 1 - self.b2 ** t
        step = ops.scale_(ops.div_scalar(m, bias_correction1), self.lr)
        rho_inf = 2 / (1 - self.b2) - 1
        rho_t = rho_inf - 2 * t * (self.b2 ** t) / bias_correction2
        if rho_t > 5.0:
            adaptive = ops.scale_(ops.reciprocal_(ops.add_scalar_(ops.sqrt(v), self.eps)), bias_correction2 ** 0.5)
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            step = ops.scale_(ops.mul_(step, adaptive), rect)
        return (Term(step, scaled=True),)


class RAdam(Optimizer):
    r"""RAdam (Rectified Adam): in its first steps Adam's second moment is estimated from too few gradients and
    its adaptive step has a large variance; RAdam takes plain momentum-SGD steps until the estimate's effective
    length :math:`\rho_t` exceeds 5, then Adam's step multiplied by a rectification :math:`r_t < 1` that
    tends to 1 — a warm-up derived from the variance rather than a schedule to tune.

    .. math::
        \theta_t = \theta_{t-1} - \eta\,\hat m_t \cdot
        \begin{cases} r_t\,\sqrt{1-\beta_2^t}\,/\,(\sqrt{v_t} + \epsilon) & \rho_t > 5 \\ 1 & \text{otherwise}\end{cases}

    with :math:`\hat m_t = m_t/(1-\beta_1^t)`, Adam's moments, and :math:`\rho_t, r_t` as in
    :class:`ScaleByRAdam`. ``decoupled_weight_decay`` shrinks the weights by :math:`1-\eta\lambda` (as AdamW).
    """

    name = "radam"
    family = "adaptive"
    summary = "Adam with a variance-rectified warm-up: momentum SGD first, then a rectified Adam step."
    paper = "Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020"
    parents = ("adam",)
    reference = "torch.optim.RAdam"

    lr: float = lr(1e-3, search=(1e-4, 1.0))
    betas: tuple[float, float] = BETAS
    eps: float = EPS
    weight_decay: float = WEIGHT_DECAY
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
            ScaleByRAdam(lr, b1, b2, group["eps"]),
            Descend(lr),
        )
