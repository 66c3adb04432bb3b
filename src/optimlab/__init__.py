"""optimlab: deep-learning optimizers written once, exact and fast; a visual lab, a tuner and evidence.

Every optimizer is a drop-in ``torch.optim.Optimizer``::

    import optimlab
    opt = optimlab.Adam(model.parameters(), lr=1e-3)

The registry (:mod:`optimlab.registry`) describes each one: hyperparameters, valid ranges, lineage.
"""

from optimlab.core.adapter import NonFiniteGradientError, Optimizer
from optimlab.optimizers import NAG, SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Momentum, NAdam, RMSprop

__version__ = "0.1.0"

__all__ = [
    "SGD", "Momentum", "NAG", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "Adamax",
    "Optimizer", "NonFiniteGradientError", "__version__",
]
