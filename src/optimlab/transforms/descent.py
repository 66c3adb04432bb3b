"""The descent step: the last link of every chain, which writes the parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimlab.rules import Transform, as_terms


@dataclass(repr=False)
class Descend(Transform):
    r"""Descent step :math:`\theta \leftarrow \theta - \eta\, u`, one in-place call per term of ``u``.

    A term :math:`\frac{a}{b}\frac{n}{d}` becomes ``param.addcdiv_(n, d, value=-lr·a/b)`` and a term without
    denominator ``param.add_(n, alpha=-lr·a/b)``: the coefficient is computed as torch computes it, in
    double precision, before it meets the tensors.
    """

    lr: Any

    def apply(self, ops, u, ctx):
        for t in as_terms(u):
            lr = 1.0 if t.scaled else self.lr
            coef = (-lr * t.a) / t.b if t.b != 1.0 else -lr * t.a
            if t.den is not None:
                ops.addcdiv_(ctx.params, t.num, t.den, coef)
            else:
                ops.add_(ctx.params, t.num, coef)
        return None
