"""Momentum: the heavy-ball trace and its Nesterov look-ahead."""

from __future__ import annotations

from dataclasses import dataclass

from optimlab.core.transform import Slot, Transform


@dataclass(repr=False)
class Trace(Transform):
    r"""Momentum buffer (Polyak 1964; Nesterov as in Sutskever et al., 2013).

    .. math::
        b_t = \mu\, b_{t-1} + (1 - d)\, u_t \quad (b_1 = u_1), \qquad
        u \leftarrow \begin{cases} u_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}

    ``d`` is the dampening. The buffer starts as the first update, as in torch.optim's SGD; with
    ``d = 0`` that equals starting from zeros (torch's RMSprop), so both reuse this transform.
    """

    momentum: float
    dampening: float = 0.0
    nesterov: bool = False
    slots = (Slot("momentum_buffer"),)

    def apply(self, ops, u, ctx):
        buf = ctx.state["momentum_buffer"]
        if ctx.fresh:
            ops.copy_(buf, u)
        else:
            ops.mul_(buf, self.momentum)
            ops.add_(buf, u, alpha=1.0 - self.dampening)
        if self.nesterov:
            return ops.add(u, buf, alpha=self.momentum)
        return list(buf)
