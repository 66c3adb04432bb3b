"""optimlab: deep-learning optimizers written once, exact and fast; a visual lab, a tuner and evidence.

Every optimizer is a drop-in ``torch.optim.Optimizer``::

    import optimlab
    opt = optimlab.Adam(model.parameters(), lr=1e-3)

The registry (:mod:`optimlab.registry`) describes each one: hyperparameters, valid ranges, lineage. The
classes are discovered in :mod:`optimlab.optimizers` (one file per optimizer) and exported here by name.
"""

from optimlab import catalog as _catalog
from optimlab.adapter import NonFiniteGradientError, Optimizer

__version__ = "0.1.0"

globals().update(_catalog.classes())

__all__ = [*_catalog.classes(), "Optimizer", "NonFiniteGradientError", "__version__"]
