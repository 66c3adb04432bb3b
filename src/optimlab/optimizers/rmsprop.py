"""RMSprop: Adagrad with a leaky (exponentially averaged) accumulator, so steps do not vanish."""

from __future__ import annotations

from typing import Any, Mapping

from optimlab.adapter import CAPTURABLE, DIFFERENTIABLE, FOREACH, MAXIMIZE, WEIGHT_DECAY, Hyper, Optimizer, lr
from optimlab.rules import Chain, chain
from optimlab.transforms import Descend, ScaleByRms, Trace, weight_decay
from optimlab.validation import BOOLEAN, NON_NEGATIVE, UNIT_CLOSED


class RMSprop(Optimizer):
    r"""RMSProp: Adagrad with a leaky (exponentially averaged) accumulator, so steps do not vanish.

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) g_t^2, \qquad
        \theta_t = \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{s_t - [\bar g_t^2]} + \epsilon}

    ``centered`` subtracts the squared running mean :math:`\bar g_t`; ``momentum`` > 0 accumulates the
    scaled step in a buffer :math:`b_t = \mu b_{t-1} + g_t / (\cdot)` and steps by :math:`\eta b_t`.
    """

    name = "rmsprop"
    reference = "torch.optim.RMSprop"
    family = "adaptive"
    summary = "Adagrad with an exponential moving average of squared gradients."
    paper = "Hinton, Srivastava & Swersky, Neural Networks for Machine Learning, Lecture 6e, 2012"
    parents = ("adagrad",)

    lr: float = lr(1e-2, search=(1e-5, 1.0))
    alpha: float = Hyper(0.99, UNIT_CLOSED, "smoothing constant α of the squared-gradient average",
                         label="alpha value")
    eps: float = Hyper(1e-8, NON_NEGATIVE, "ε added to the denominator", label="epsilon value")
    weight_decay: float = WEIGHT_DECAY
    momentum: float = Hyper(0.0, NON_NEGATIVE, "momentum factor μ", label="momentum value")
    centered: bool = Hyper(False, BOOLEAN, "subtract the squared mean gradient (Graves, 2013)")
    capturable: bool = CAPTURABLE.but(kw_only=False)
    foreach: bool | None = FOREACH.but(kw_only=False)
    maximize: bool = MAXIMIZE.but(kw_only=False)
    differentiable: bool = DIFFERENTIABLE.but(kw_only=False)

    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:
        lr, mu = group["lr"], group["momentum"]
        return chain(
            weight_decay(lr, group["weight_decay"]),
            ScaleByRms(group["alpha"], group["eps"], group["centered"]),
            Trace(mu, from_zero=True) if mu > 0 else None,
            Descend(lr),
        )
