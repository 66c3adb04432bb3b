"""Per-coordinate adaptive scalings: Adagrad → RMSProp → AdaDelta, and Adam with its variants.

Each is written in torch.optim's order of operations (``m.lerp_(g, 1-β1)``, ``v.mul_(β2).addcmul_(g, g,
value=1-β2)``, ``denom = (sqrt(v) / sqrt(1-β2^t)) + ε``, …), so the reference path reproduces torch.optim's
numbers bit for bit; the shared pieces are small functions that each transform reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimlab.rules import ScalarSlot, Slot, Term, Transform


def ema_(ops, avg, u, beta):
    r""":math:`a \leftarrow \beta a + (1-\beta) u`, as ``avg.lerp_(u, 1 - beta)`` (in place on ``avg``)."""
    return ops.lerp_(avg, u, 1 - beta)


def ema_sq_(ops, avg_sq, u, beta):
    r""":math:`s \leftarrow \beta s + (1-\beta) u^2`, as ``avg_sq.mul_(beta).addcmul_(u, u, value=1 - beta)``."""
    ops.scale_(avg_sq, beta)
    return ops.addcmul_(avg_sq, u, u, 1 - beta)


@dataclass(repr=False)
class ScaleByAdagrad(Transform):
    r"""Adagrad (Duchi, Hazan & Singer, 2011).

    .. math::
        s_t = s_{t-1} + u_t^2, \qquad u \leftarrow \frac{1}{1 + (t-1)\,\delta}\,\frac{u_t}{\sqrt{s_t} + \epsilon}

    with :math:`s_0` = ``initial_accumulator_value`` and :math:`\delta` = ``lr_decay``.
    """

    lr_decay: Any = 0.0
    eps: Any = 1e-10
    initial_accumulator_value: Any = 0.0
    step_counter = True

    @property
    def slots(self):
        return (Slot("sum", self.initial_accumulator_value),)

    def apply(self, ops, u, ctx):
        acc = ops.addcmul_(ctx.state["sum"], u, u, 1)
        std = ops.add_scalar_(ops.sqrt(acc), self.eps)
        return (Term(u, std, 1.0, 1 + (ctx.step - 1) * self.lr_decay),)


@dataclass(repr=False)
class ScaleByRms(Transform):
    r"""RMSProp (Hinton, 2012); centred as in Graves (2013).

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) u_t^2, \quad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) u_t, \quad
        u \leftarrow \frac{u_t}{\sqrt{s_t - [\bar g_t^2]} + \epsilon}

    where the bracketed term is subtracted only when ``centered``.
    """

    alpha: Any = 0.99
    eps: Any = 1e-8
    centered: bool = False
    step_counter = True

    @property
    def slots(self):
        return (Slot("square_avg"), Slot("grad_avg")) if self.centered else (Slot("square_avg"),)

    def apply(self, ops, u, ctx):
        sq = ema_sq_(ops, ctx.state["square_avg"], u, self.alpha)
        if self.centered:
            mean = ema_(ops, ctx.state["grad_avg"], u, self.alpha)
            avg = ops.sqrt_(ops.addcmul(sq, mean, mean, -1))
        else:
            avg = ops.sqrt(sq)
        return (Term(u, ops.add_scalar_(avg, self.eps)),)


@dataclass(repr=False)
class ScaleByAdadelta(Transform):
    r"""AdaDelta (Zeiler, 2012).

    .. math::
        s_t = \rho s_{t-1} + (1-\rho) u_t^2, \quad
        \Delta_t = \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}}\, u_t, \quad
        a_t = \rho a_{t-1} + (1-\rho) \Delta_t^2, \quad u \leftarrow \Delta_t
    """

    rho: Any = 0.9
    eps: Any = 1e-6
    slots = (Slot("square_avg"), Slot("acc_delta"))
    step_counter = True

    def apply(self, ops, u, ctx):
        sq = ema_sq_(ops, ctx.state["square_avg"], u, self.rho)
        acc = ctx.state["acc_delta"]
        std = ops.sqrt_(ops.add_scalar(sq, self.eps))
        delta = ops.sqrt_(ops.add_scalar(acc, self.eps))
        delta = ops.mul_(ops.div_(delta, std), u)
        ema_sq_(ops, acc, delta, self.rho)
        return delta


@dataclass(repr=False)
class ScaleByAdam(Transform):
    r"""Adam (Kingma & Ba, 2015); AMSGrad (Reddi, Kale & Kumar, 2018).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) u_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) u_t^2, \quad
        u \leftarrow \frac{1}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``amsgrad``, :math:`v_t` in the denominator is replaced by its running maximum.
    """

    b1: Any = 0.9
    b2: Any = 0.999
    eps: Any = 1e-8
    amsgrad: bool = False
    step_counter = True

    @property
    def slots(self):
        base = (Slot("exp_avg"), Slot("exp_avg_sq"))
        return base + (Slot("max_exp_avg_sq"),) if self.amsgrad else base

    def apply(self, ops, u, ctx):
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        if self.amsgrad:
            v = ops.maximum_(ctx.state["max_exp_avg_sq"], v)
        bias_correction2_sqrt = (1 - self.b2 ** ctx.step) ** 0.5
        denom = ops.add_scalar_(ops.div_scalar(ops.sqrt(v), bias_correction2_sqrt), self.eps)
        return (Term(m, denom, 1.0, 1 - self.b1 ** ctx.step),)


@dataclass(repr=False)
class ScaleByNadam(Transform):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum-decay schedule.

    .. math::
        \mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{t\psi}), \quad \Pi_t = \prod_{i \le t} \mu_i, \quad
        u \leftarrow \frac{1-\mu_t}{1-\Pi_t}\,\frac{u_t}{d_t} + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\,\frac{m_t}{d_t},
        \quad d_t = \sqrt{v_t / (1-\beta_2^t)} + \epsilon

    with :math:`m_t, v_t` Adam's moments and :math:`\psi` = ``momentum_decay``.
    """

    b1: Any = 0.9
    b2: Any = 0.999
    eps: Any = 1e-8
    momentum_decay: Any = 4e-3
    slots = (Slot("exp_avg"), Slot("exp_avg_sq"))
    scalar_slots = (ScalarSlot("mu_product", 1.0),)
    step_counter = True

    def apply(self, ops, u, ctx):
        t = ctx.step
        bias_correction2 = 1 - self.b2 ** t
        mu = self.b1 * (1.0 - 0.5 * (0.96 ** (t * self.momentum_decay)))
        mu_next = self.b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * self.momentum_decay)))
        mu_product = ctx.scale_scalar_("mu_product", mu)
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        v = ema_sq_(ops, ctx.state["exp_avg_sq"], u, self.b2)
        denom = ops.add_scalar_(ops.sqrt_(ops.div_scalar(v, bias_correction2)), self.eps)
        return (Term(u, denom, 1.0 - mu, 1.0 - mu_product),
                Term(m, denom, mu_next, 1.0 - mu_product * mu_next))


@dataclass(repr=False)
class ScaleByAdamax(Transform):
    r"""Adamax (Kingma & Ba, 2015, §7.1): Adam with the infinity norm.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) u_t, \quad
        n_t = \max(\beta_2 n_{t-1}, |u_t| + \epsilon), \quad
        u \leftarrow \frac{1}{1-\beta_1^t}\,\frac{m_t}{n_t}
    """

    b1: Any = 0.9
    b2: Any = 0.999
    eps: Any = 1e-8
    slots = (Slot("exp_avg"), Slot("exp_inf"))
    step_counter = True

    def apply(self, ops, u, ctx):
        m = ema_(ops, ctx.state["exp_avg"], u, self.b1)
        norm = ops.maximum_(ops.scale_(ctx.state["exp_inf"], self.b2), ops.add_scalar_(ops.abs(u), self.eps))
        return (Term(m, norm, 1.0, 1 - self.b1 ** ctx.step),)
