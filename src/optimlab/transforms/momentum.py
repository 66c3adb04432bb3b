"""Momentum: the heavy-ball trace and its Nesterov look-ahead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimlab.rules import Slot, Transform, accumulate_, materialize


@dataclass(repr=False)
class Trace(Transform):
    r"""Momentum buffer (Polyak 1964; Nesterov as in Sutskever et al., 2013), as torch.optim's SGD.

    .. math::
        b_t = \mu\, b_{t-1} + (1 - d)\, u_t \quad (b_1 = u_1), \qquad
        u \leftarrow \begin{cases} u_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}

    ``d`` is the dampening. The buffer starts as the first update, detached from autograd's graph (torch's
    SGD). With ``from_zero`` it starts at zero and the first update is accumulated into it (torch's RMSprop,
    whose incoming update is a deferred ``g / avg``: it is accumulated with ``addcdiv_``, as torch does): the
    same values, but a differentiable first step then depends on the gradient, as torch's does.
    """

    momentum: Any
    dampening: Any = 0.0
    nesterov: bool = False
    from_zero: bool = False
    slots = (Slot("momentum_buffer"),)

    def apply(self, ops, u, ctx):
        buf = ctx.state["momentum_buffer"]
        if ctx.fresh and not self.from_zero:  # as torch's SGD: the buffer starts as a detached copy of the first update
            ops.copy_(buf, ops.detach(materialize(ops, u)))
        else:
            ops.scale_(buf, self.momentum)
            accumulate_(ops, buf, u, 1 - self.dampening)
        if self.nesterov:
            return ops.add(materialize(ops, u), buf, self.momentum)
        return list(buf)
