"""Weight decay, coupled (L2 in the gradient) and decoupled (AdamW-style shrinkage of the weights)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimlab.rules import Transform


@dataclass(repr=False)
class CoupledWeightDecay(Transform):
    r"""L2 regularisation folded into the gradient: :math:`u \leftarrow u + \lambda\,\theta`."""

    weight_decay: Any

    def apply(self, ops, u, ctx):
        return ops.add(u, ctx.params, self.weight_decay)


@dataclass(repr=False)
class DecoupledWeightDecay(Transform):
    r"""Decoupled decay (Loshchilov & Hutter, 2019): :math:`\theta \leftarrow \theta\,(1 - \eta\lambda)`.

    Applied to the weights before the rest of the chain reads them, as torch.optim's AdamW does;
    the update direction passes through unchanged.
    """

    lr: Any
    weight_decay: Any

    def apply(self, ops, u, ctx):
        ops.scale_(ctx.params, 1 - self.lr * self.weight_decay)
        return u


def weight_decay(lr: Any, weight_decay: Any, decoupled: bool = False) -> Transform | None:
    """The weight-decay link of a chain: ``None`` when disabled, else coupled or decoupled."""
    if weight_decay == 0:
        return None
    return DecoupledWeightDecay(lr, weight_decay) if decoupled else CoupledWeightDecay(weight_decay)
