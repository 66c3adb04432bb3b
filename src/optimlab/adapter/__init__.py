"""The torch.optim adapter: the :class:`Optimizer` base class and the declaration of hyperparameters."""

from optimlab.adapter.declare import (
    BETAS,
    CAPTURABLE,
    DECOUPLED_WEIGHT_DECAY,
    DIFFERENTIABLE,
    EPS,
    FOREACH,
    FUSED,
    MAXIMIZE,
    WEIGHT_DECAY,
    Derived,
    Fixed,
    Hyper,
    lr,
)
from optimlab.adapter.optimizer import ENGINE_OPTIONS, NonFiniteGradientError, Optimizer

__all__ = ["BETAS", "CAPTURABLE", "DECOUPLED_WEIGHT_DECAY", "DIFFERENTIABLE", "ENGINE_OPTIONS", "EPS", "FOREACH", "FUSED", "MAXIMIZE",
           "WEIGHT_DECAY", "Derived", "Fixed", "Hyper", "NonFiniteGradientError", "Optimizer", "lr"]
