"""ASGD: SGD with a decaying step size that also keeps a running average of the iterates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from optimlab.adapter import CAPTURABLE, DIFFERENTIABLE, FOREACH, MAXIMIZE, WEIGHT_DECAY, Hyper, Optimizer, lr
from optimlab.rules import Chain, ScalarSlot, Slot, Transform, chain
from optimlab.transforms import weight_decay
from optimlab.validation import NON_NEGATIVE, Interval


@dataclass(repr=False)
class AveragedDescent(Transform):
    r"""ASGD's step, average and schedules, in torch.optim's arithmetic (state ``eta``, ``mu``, ``ax``).

    .. math::
        \theta_t = \theta_{t-1}(1 - \lambda\eta_{t-1}) - \eta_{t-1} g_t, \quad
        \bar\theta_t = \bar\theta_{t-1} + \mu_{t-1}(\theta_t - \bar\theta_{t-1}) \ (= \theta_t \text{ while } \mu = 1),

        \eta_t = \frac{\eta_0}{(1 + \lambda\eta_0 t)^{\alpha}}, \qquad \mu_t = \frac{1}{\max(1, t - t_0)}
    """

    lr: Any
    lambd: Any = 1e-4
    alpha: Any = 0.75
    t0: Any = 1e6
    slots = (Slot("ax"),)
    step_counter = True

    @property
    def scalar_slots(self):
        return (ScalarSlot("eta", self.lr), ScalarSlot("mu", 1.0))

    def apply(self, ops, u, ctx):
        eta, mu = ctx.scalar("eta"), ctx.scalar("mu")
        params = ops.scale_(ctx.params, 1 - self.lambd * eta)
        params = ops.add_(params, u, -eta)
        ax = ctx.state["ax"]
        if mu != 1:
            ops.add_(ax, ops.scale_(ops.add(params, ax, -1), mu), 1)
        else:
            ops.copy_(ax, params)
        t = ctx.step
        ctx.set_scalar_("eta", self.lr / ((1 + self.lambd * self.lr * t) ** self.alpha))
        ctx.set_scalar_("mu", 1 / max(1, t - self.t0))
        return None


class ASGD(Optimizer):
    r"""ASGD (averaged stochastic gradient descent): SGD with a step size that decays as :math:`t^{-\alpha}`,
    keeping the running average :math:`\bar\theta` of its iterates (state ``ax``) from step :math:`t_0` on — the
    average converges at the optimal rate for convex problems where the last iterate does not. The parameters
    keep the last iterate; use ``ax`` (``opt.state[p]["ax"]``) to evaluate the average.

    .. math::
        \theta_t = \theta_{t-1}(1 - \lambda\eta_{t-1}) - \eta_{t-1} g_t, \qquad \eta_t = \frac{\eta}{(1+\lambda\eta t)^\alpha}
    """

    name = "asgd"
    family = "gradient descent"
    summary = "SGD with a t^-alpha step size and a running average of the iterates (Polyak averaging)."
    paper = "Polyak & Juditsky, Acceleration of Stochastic Approximation by Averaging, SIAM J. Control Optim. 1992"
    parents = ("sgd",)
    reference = "torch.optim.ASGD"

    lr: float = lr(1e-2, search=(1e-4, 1.0))
    lambd: float = Hyper(1e-4, NON_NEGATIVE, "decay term λ of the step size (and of the weights)")
    alpha: float = Hyper(0.75, NON_NEGATIVE, "power α of the step-size decay")
    t0: float = Hyper(1e6, Interval(0.0), "step at which averaging starts")
    weight_decay: float = WEIGHT_DECAY
    foreach: bool | None = FOREACH.but(kw_only=False)
    maximize: bool = MAXIMIZE.but(kw_only=False)
    differentiable: bool = DIFFERENTIABLE.but(kw_only=False)
    capturable: bool = CAPTURABLE.but(kw_only=False)

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        return chain(
            weight_decay(group["lr"], group["weight_decay"]),
            AveragedDescent(group["lr"], group["lambd"], group["alpha"], group["t0"]),
        )
