"""AdEMAMix: Adam with a second, much slower momentum mixed into the step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from optimlab.adapter import EPS, MAXIMIZE, WEIGHT_DECAY, Hyper, Optimizer, lr
from optimlab.rules import Chain, Slot, Term, Transform, chain
from optimlab.rules.scalar_math import exp, log
from optimlab.transforms import Descend, weight_decay
from optimlab.transforms.adaptive import ema_, ema_sq_
from optimlab.validation import BOOLEAN, NON_NEGATIVE, UNIT_CLOSED, UNIT_HALF_OPEN, Choice, Optional, Pair


@dataclass(repr=False)
class ScaleByAdEMAMix(Transform):
    r"""AdEMAMix's direction (Pagliardini et al., 2024, Algorithm 1), in pytorch-optimizer's arithmetic.

    .. math::
        m^{(1)}_t = \beta_1 m^{(1)}_{t-1} + (1-\beta_1) g_t, \quad
        m^{(2)}_t = \beta_3(t)\, m^{(2)}_{t-1} + (1-\beta_3(t))\, g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        u \leftarrow \frac{m^{(1)}_t/(1-\beta_1^t) + \alpha(t)\, m^{(2)}_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with, over a warm-up of :math:`T` = ``t_alpha_beta3`` steps, :math:`\alpha(t) = \min(t\alpha/T, \alpha)` and
    :math:`\beta_3(t) = \min\big(\exp\frac{\ln\beta_1 \ln\beta_3}{(1-t/T)\ln\beta_3 + (t/T)\ln\beta_1}, \beta_3\big)`
    (:math:`\alpha, \beta_3` throughout without one).
    """

    b1: Any = 0.9
    b2: Any = 0.999
    b3: Any = 0.9999
    alpha: Any = 5.0
    warmup: Any = None
    eps: Any = 1e-8
    slots = (Slot("exp_avg"), Slot("exp_avg_sq"), Slot("exp_avg_slow"))
    step_counter = "group"

    def apply(self, ops, u, ctx):
        t, b1, b3 = ctx.step, self.b1, self.b3
        alpha_t, b3_t = self.alpha, b3
        if self.warmup is not None:
            alpha_t = min(t * self.alpha / self.warmup, self.alpha)
            log_b1, log_b3 = log(b1), log(b3)
            b3_t = min(exp(log_b1 * log_b3 / ((1.0 - t / self.warmup) * log_b3 + (t / self.warmup) * log_b1)), b3)
        bias_correction1 = 1.0 - b1 ** t
        bias_correction2_sqrt = (1.0 - self.b2 ** t) ** 0.5
        m = ema_(ops, ctx.state["exp_avg"], u, b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        slow = ema_(ops, ctx.state["exp_avg_slow"], u, b3_t)
        denom = ops.add_scalar_(ops.div_scalar_(ops.sqrt(v), bias_correction2_sqrt), self.eps)
        direction = ops.add_(ops.div_scalar(m, bias_correction1), slow, alpha_t)
        return (Term(direction, denom),)


class AdEMAMix(Optimizer):
    r"""AdEMAMix: Adam, plus a second momentum that decays far more slowly (:math:`\beta_3 = 0.9999`, an average
    over ~10,000 steps) mixed into the numerator with weight :math:`\alpha`. The fast momentum reacts to the
    current gradients; the slow one keeps using gradients from long ago, which its authors show still point the
    right way — models train faster and forget less. Both :math:`\alpha` and :math:`\beta_3` can be warmed up
    over ``t_alpha_beta3`` steps, which the paper recommends for large :math:`\beta_3`.

    .. math::
        \theta_t = \theta_{t-1} - \eta\,\frac{\hat m^{(1)}_t + \alpha\, m^{(2)}_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m^{(1)}_t, \hat v_t` Adam's bias-corrected moments and :math:`m^{(2)}_t` the slow momentum
    (not bias-corrected). Weight decay as pytorch-optimizer's: added to the gradient, or with ``weight_decouple``
    shrinking the weights by :math:`1-\eta\lambda` (by :math:`1-\lambda` with ``fixed_decay``). The step count is
    kept per param group (``group["step"]``), as in pytorch-optimizer, which this equals.
    """

    name = "ademamix"
    family = "adaptive"
    summary = "Adam plus a slow momentum (β3 ≈ 0.9999) mixed in: old gradients keep helping."
    paper = "Pagliardini, Ablin & Grangier, The AdEMAMix Optimizer: Better, Faster, Older, arXiv:2409.03137, 2024"
    parents = ("adamw",)
    reference = "pytorch_optimizer.AdEMAMix"
    complex_params = "allowed: real parameters (as pytorch-optimizer's AdEMAMix)"

    lr: float = lr(1e-3, search=(1e-4, 1.0))
    betas: tuple[float, float, float] = Hyper((0.9, 0.999, 0.9999), Pair(UNIT_HALF_OPEN, 3, last=UNIT_CLOSED),
                                              "decay rates (β1, β2, β3) of the fast momentum, the second moment and "
                                              "the slow momentum", label="beta parameter at index {i}")
    weight_decay: float = WEIGHT_DECAY
    weight_decouple: bool = Hyper(False, BOOLEAN, "shrink the weights by 1 - ηλ instead (as AdamW)")
    fixed_decay: bool = Hyper(False, BOOLEAN, "with weight_decouple: shrink by 1 - λ, without the learning rate")
    alpha: float = Hyper(5.0, NON_NEGATIVE, "weight α of the slow momentum")
    t_alpha_beta3: float | None = Hyper(None, Optional(NON_NEGATIVE), "warm-up steps of α and β3 (None: no warm-up)")
    eps: float = EPS
    maximize: bool = MAXIMIZE.but(kw_only=False)
    foreach: bool | None = Hyper(None, Choice((None, True, False)), "pytorch-optimizer's batched-ops switch: True "
                                 "runs impl='foreach', False impl='reference'",
                                 selects=((True, "foreach"), (False, "reference")))

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, (b1, b2, b3) = group["lr"], group["betas"]
        decay_lr = 1.0 if group["fixed_decay"] else lr
        return chain(
            weight_decay(decay_lr, group["weight_decay"], group["weight_decouple"]),
            ScaleByAdEMAMix(b1, b2, b3, group["alpha"], group["t_alpha_beta3"], group["eps"]),
            Descend(lr),
        )
