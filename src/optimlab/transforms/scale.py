"""The learning-rate step: the last link of every chain."""

from __future__ import annotations

from dataclasses import dataclass

from optimlab.core.transform import Transform


@dataclass(repr=False)
class ScaleByLearningRate(Transform):
    r"""Descent step: :math:`u \leftarrow -\eta\, u` (the engine then adds ``u`` to the parameters)."""

    lr: float

    def apply(self, ops, u, ctx):
        return ops.mul(u, -self.lr)
