"""Per-coordinate adaptive scalings: Adagrad → RMSProp → AdaDelta, and Adam with its variants.

The shared pieces (exponential averages, the bias-corrected RMS denominator) are small functions so
that RMSprop, AdaDelta, Adam, NAdam and Adamax each reuse them instead of restating them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimlab.core.transform import ScalarSlot, Slot, Transform


def ema_(ops, avg, u, beta: float):
    r""":math:`a \leftarrow \beta a + (1-\beta) u` (in place on ``avg``)."""
    return ops.lerp_(avg, u, 1.0 - beta)


def ema_sq_(ops, avg_sq, u, beta: float):
    r""":math:`s \leftarrow \beta s + (1-\beta) u^2` (in place on ``avg_sq``)."""
    ops.mul_(avg_sq, beta)
    return ops.addcmul_(avg_sq, u, u, value=1.0 - beta)


def rms_denominator(ops, avg_sq, eps: float, bias_correction: float = 1.0):
    r"""A new list :math:`\sqrt{s / c} + \epsilon` with :math:`c` the bias correction."""
    denom = ops.sqrt(avg_sq)
    if bias_correction != 1.0:
        ops.mul_(denom, 1.0 / math.sqrt(bias_correction))
    return ops.add_scalar_(denom, eps)


@dataclass(repr=False)
class ScaleByAdagrad(Transform):
    r"""Adagrad (Duchi, Hazan & Singer, 2011).

    .. math::
        s_t = s_{t-1} + u_t^2, \qquad u \leftarrow \frac{u_t}{(\sqrt{s_t} + \epsilon)\,(1 + (t-1)\,\delta)}

    with :math:`s_0` = ``initial_accumulator_value`` and :math:`\delta` = ``lr_decay``.
    """

    lr_decay: float = 0.0
    eps: float = 1e-10
    initial_accumulator_value: float = 0.0

    @property
    def slots(self):
        return (Slot("sum", self.initial_accumulator_value),)

    def apply(self, ops, u, ctx):
        acc = ctx.state["sum"]
        ops.addcmul_(acc, u, u, value=1.0)
        out = ops.div(u, rms_denominator(ops, acc, self.eps))
        if self.lr_decay:
            ops.mul_(out, 1.0 / (1.0 + (ctx.step - 1) * self.lr_decay))
        return out


@dataclass(repr=False)
class ScaleByRms(Transform):
    r"""RMSProp (Hinton, 2012); centred as in Graves (2013).

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) u_t^2, \quad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) u_t, \quad
        u \leftarrow \frac{u_t}{\sqrt{s_t - [\bar g_t^2]} + \epsilon}

    where the bracketed term is subtracted only when ``centered``.
    """

    alpha: float = 0.99
    eps: float = 1e-8
    centered: bool = False

    @property
    def slots(self):
        return (Slot("square_avg"), Slot("grad_avg")) if self.centered else (Slot("square_avg"),)

    def apply(self, ops, u, ctx):
        sq = ema_sq_(ops, ctx.state["square_avg"], u, self.alpha)
        if self.centered:
            mean = ema_(ops, ctx.state["grad_avg"], u, self.alpha)
            var = ops.addcmul(sq, mean, mean, value=-1.0)
            denom = ops.add_scalar_(ops.sqrt_(var), self.eps)
        else:
            denom = rms_denominator(ops, sq, self.eps)
        return ops.div(u, denom)


@dataclass(repr=False)
class ScaleByAdadelta(Transform):
    r"""AdaDelta (Zeiler, 2012).

    .. math::
        s_t = \rho s_{t-1} + (1-\rho) u_t^2, \quad
        \Delta_t = \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}}\, u_t, \quad
        a_t = \rho a_{t-1} + (1-\rho) \Delta_t^2, \quad u \leftarrow \Delta_t
    """

    rho: float = 0.9
    eps: float = 1e-6
    slots = (Slot("square_avg"), Slot("acc_delta"))

    def apply(self, ops, u, ctx):
        sq = ema_sq_(ops, ctx.state["square_avg"], u, self.rho)
        acc = ctx.state["acc_delta"]
        std = ops.sqrt_(ops.add_scalar(sq, self.eps))
        delta = ops.sqrt_(ops.add_scalar(acc, self.eps))
        ops.div_(delta, std)
        ops.mul_tensors_(delta, u)
        ema_sq_(ops, acc, delta, self.rho)
        return delta


@dataclass(repr=False)
class ScaleByAdam(Transform):
    r"""Adam (Kingma & Ba, 2015); AMSGrad (Reddi, Kale & Kumar, 2018).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) u_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) u_t^2, \quad
        \hat m_t = \frac{m_t}{1-\beta_1^t}, \quad \hat v_t = \frac{v_t}{1-\beta_2^t}, \quad
        u \leftarrow \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    With ``amsgrad``, :math:`v_t` in the denominator is replaced by its running maximum.
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    amsgrad: bool = False

    @property
    def slots(self):
        base = (Slot("exp_avg"), Slot("exp_avg_sq"))
        return base + (Slot("max_exp_avg_sq"),) if self.amsgrad else base

    def apply(self, ops, u, ctx):
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        if self.amsgrad:
            v = ops.maximum_(ctx.state["max_exp_avg_sq"], v)
        denom = rms_denominator(ops, v, self.eps, 1.0 - self.b2**ctx.step)
        out = ops.div(m, denom)
        return ops.mul_(out, 1.0 / (1.0 - self.b1**ctx.step))


@dataclass(repr=False)
class ScaleByNadam(Transform):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum-decay schedule.

    .. math::
        \mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{t\psi}), \quad \Pi_t = \prod_{i \le t} \mu_i, \quad
        u \leftarrow \frac{1-\mu_t}{1-\Pi_t}\,\frac{u_t}{d_t} + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\,\frac{m_t}{d_t},
        \quad d_t = \sqrt{v_t / (1-\beta_2^t)} + \epsilon

    with :math:`m_t, v_t` Adam's moments and :math:`\psi` = ``momentum_decay``.
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    momentum_decay: float = 4e-3
    slots = (Slot("exp_avg"), Slot("exp_avg_sq"))
    scalar_slots = (ScalarSlot("mu_product", 1.0),)

    def _mu(self, t: int) -> float:
        return self.b1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def apply(self, ops, u, ctx):
        mu, mu_next = self._mu(ctx.step), self._mu(ctx.step + 1)
        mu_product = ctx.scale_scalar_("mu_product", mu)
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        denom = rms_denominator(ops, v, self.eps, 1.0 - self.b2**ctx.step)
        out = ops.div(u, denom)
        ops.mul_(out, (1.0 - mu) / (1.0 - mu_product))
        return ops.addcdiv_(out, m, denom, value=mu_next / (1.0 - mu_product * mu_next))


@dataclass(repr=False)
class ScaleByAdamax(Transform):
    r"""Adamax (Kingma & Ba, 2015, §7.1): Adam with the infinity norm.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) u_t, \quad
        n_t = \max(\beta_2 n_{t-1}, |u_t| + \epsilon), \quad
        u \leftarrow \frac{m_t}{(1-\beta_1^t)\, n_t}
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    slots = (Slot("exp_avg"), Slot("exp_inf"))

    def apply(self, ops, u, ctx):
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        norm = ops.mul_(ctx.state["exp_inf"], self.b2)
        ops.maximum_(norm, ops.add_scalar_(ops.abs(u), self.eps))
        out = ops.div(m, norm)
        return ops.mul_(out, 1.0 / (1.0 - self.b1**ctx.step))
