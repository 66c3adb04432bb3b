"""Lion: the sign of an interpolation of momentum and gradient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from optimlab.adapter import MAXIMIZE, WEIGHT_DECAY, Derived, Hyper, Optimizer, lr
from optimlab.rules import Chain, Slot, Transform, chain
from optimlab.transforms import Descend, weight_decay
from optimlab.validation import BOOLEAN, UNIT_CLOSED, Pair


@dataclass(repr=False)
class ScaleByLion(Transform):
    r"""Lion's direction and momentum, in lion-pytorch's arithmetic.

    .. math::
        u \leftarrow \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big), \qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t
    """

    b1: Any = 0.9
    b2: Any = 0.99
    slots = (Slot("exp_avg"),)

    def apply(self, ops, u, ctx):
        m = ctx.state["exp_avg"]
        direction = ops.sign_(ops.add_(ops.scale(m, self.b1), u, 1 - self.b1))
        ops.add_(ops.scale_(m, self.b2), u, 1 - self.b2)
        return direction


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum): every coordinate moves by exactly the learning rate, in the direction of the
    sign of an interpolation between the momentum and the gradient; the momentum then moves towards the gradient
    more slowly (:math:`\beta_2 > \beta_1`). Found by program search; uses one state buffer (Adam: two).

    .. math::
        \theta_t = \theta_{t-1}(1 - \eta\lambda) - \eta\,\operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big),
        \qquad m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    Its updates are larger than Adam's (each coordinate moves by :math:`\eta`): its authors use a learning rate
    3–10× smaller than AdamW's and a weight decay 3–10× larger. With ``decoupled_weight_decay`` the decay is
    divided by the learning rate the optimizer was built with (:math:`\lambda \to \lambda/\eta_0`), as in
    lion-pytorch, which this equals.
    """

    name = "lion"
    family = "sign"
    summary = "Sign of an interpolated momentum: every coordinate moves by lr; one state buffer."
    paper = "Chen et al., Symbolic Discovery of Optimization Algorithms, NeurIPS 2023"
    parents = ("adamw",)
    reference = "lion_pytorch.Lion"
    complex_params = ("allowed: real parameters (lion-pytorch's sgn of a complex number is z/|z|, not the sign of each "
                      "part; optimize the real and imaginary parts as separate real tensors)")

    lr: float = lr(1e-4, search=(1e-6, 1e-1))
    betas: tuple[float, float] = Hyper((0.9, 0.99), Pair(UNIT_CLOSED), "interpolation β1 of the direction, decay β2 "
                                       "of the momentum", label="beta parameter at index {i}")
    weight_decay: float = WEIGHT_DECAY.but(doc="decoupled weight decay λ (the weights shrink by 1 - ηλ each step)")
    use_triton: bool = Hyper(False, BOOLEAN, "lion-pytorch's Triton switch: True runs the generated kernel of the "
                             "tensors' device (impl='fused')", selects=((True, "fused"),))
    decoupled_weight_decay: bool = Hyper(False, BOOLEAN, "divide the weight decay by the initial learning rate")
    maximize: bool = MAXIMIZE
    init_lr = Derived("lr")

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        if group["decoupled_weight_decay"]:
            wd = wd / group["init_lr"]
        return chain(
            weight_decay(lr, wd, decoupled=True),
            ScaleByLion(b1, b2),
            Descend(lr),
        )
