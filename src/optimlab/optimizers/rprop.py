"""Rprop: a step size per coordinate that grows while the gradient keeps its sign and shrinks when it flips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from optimlab.adapter import CAPTURABLE, DIFFERENTIABLE, FOREACH, MAXIMIZE, Hyper, Optimizer, lr
from optimlab.rules import Chain, Slot, Transform, chain
from optimlab.validation import NON_NEGATIVE, Interval, Pair


@dataclass(repr=False)
class ResilientStep(Transform):
    r"""Rprop's step sizes, step and remembered gradient, in torch.optim's arithmetic (state ``prev``,
    ``step_size``, created as 0 and :math:`\eta`).

    .. math::
        \Delta_t = \operatorname{clip}\big(\Delta_{t-1} \cdot f_t,\ \Gamma_{\min},\ \Gamma_{\max}\big), \quad
        f_t = \begin{cases} \eta_+ & g_t g_{t-1} > 0 \\ \eta_- & g_t g_{t-1} < 0 \\ 1 & \text{otherwise}\end{cases},
        \quad \theta_t = \theta_{t-1} - \Delta_t \operatorname{sign}(g_t), \quad \text{then } g_t \leftarrow 0
        \text{ where } f_t = \eta_-
    """

    lr: Any
    etaminus: Any = 0.5
    etaplus: Any = 1.2
    step_size_min: Any = 1e-6
    step_size_max: Any = 50
    step_counter = True

    @property
    def slots(self):
        return (Slot("prev"), Slot("step_size", self.lr))

    def apply(self, ops, u, ctx):
        prev, step_size = ctx.state["prev"], ctx.state["step_size"]
        factor = ops.sign_(ops.mul(u, prev))
        factor = ops.fill_gt_(factor, factor, 0, self.etaplus)
        factor = ops.fill_lt_(factor, factor, 0, self.etaminus)
        factor = ops.fill_eq_(factor, factor, 0, 1)
        step_size = ops.clamp_(ops.mul_(step_size, factor), self.step_size_min, self.step_size_max)
        g = ops.fill_eq(u, factor, self.etaminus, 0)  # after a sign change: no step, and no sign to compare next
        ops.addcmul_(ctx.params, ops.sign(g), step_size, -1)
        ops.copy_(prev, g)
        return None


class Rprop(Optimizer):
    r"""Rprop (resilient backpropagation): only the sign of each gradient coordinate is used; each coordinate has
    its own step size, multiplied by :math:`\eta_+ > 1` while the gradient keeps its sign and by
    :math:`\eta_- < 1` when it flips (then that coordinate skips one step), and kept within
    :math:`[\Gamma_{\min}, \Gamma_{\max}]`. ``lr`` is the initial step size. Made for full-batch training: the
    noise of mini-batch gradients flips signs at random.

    .. math::
        \Delta_t = \operatorname{clip}\big(\Delta_{t-1} \cdot \begin{cases} \eta_+ & g_t g_{t-1} > 0 \\
        \eta_- & g_t g_{t-1} < 0 \\ 1 & \text{otherwise}\end{cases},\ \Gamma_{\min},\ \Gamma_{\max}\big), \qquad
        \theta_t = \theta_{t-1} - \Delta_t \operatorname{sign}(g_t), \qquad \Delta_0 = \eta

    where :math:`g_t g_{t-1} < 0` the step is skipped and :math:`g_t` is remembered as 0.
    """

    name = "rprop"
    family = "sign"
    summary = "Sign of the gradient, with a step size per coordinate that grows and shrinks with sign changes."
    paper = ("Riedmiller & Braun, A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP "
             "Algorithm, IEEE ICNN 1993")
    reference = "torch.optim.Rprop"

    lr: float = lr(1e-2, search=(1e-4, 1.0))
    etas: tuple[float, float] = Hyper(
        (0.5, 1.2), Pair(Interval(0.0, 1.0, low_open=True, high_open=True), last=Interval(1.0, low_open=True)),
        "factors (η-, η+) that shrink the step size after a sign change and grow it otherwise",
        label="eta values: {values}")
    step_sizes: tuple[float, float] = Hyper((1e-6, 50), Pair(NON_NEGATIVE), "bounds (Γmin, Γmax) of the step sizes")
    capturable: bool = CAPTURABLE
    foreach: bool | None = FOREACH
    maximize: bool = MAXIMIZE
    differentiable: bool = DIFFERENTIABLE

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        return chain(ResilientStep(group["lr"], etaminus, etaplus, lo, hi))
