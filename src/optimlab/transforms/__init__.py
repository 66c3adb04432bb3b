"""The building blocks optimizers are chained from (see :mod:`optimlab.rules`)."""

from optimlab.transforms.adaptive import (
    ScaleByAdadelta,
    ScaleByAdagrad,
    ScaleByAdam,
    ScaleByAdamax,
    ScaleByNadam,
    ScaleByRms,
)
from optimlab.transforms.descent import Descend
from optimlab.transforms.momentum import Trace
from optimlab.transforms.weight_decay import CoupledWeightDecay, DecoupledWeightDecay, weight_decay

__all__ = [
    "CoupledWeightDecay",
    "DecoupledWeightDecay",
    "Descend",
    "ScaleByAdadelta",
    "ScaleByAdagrad",
    "ScaleByAdam",
    "ScaleByAdamax",
    "ScaleByNadam",
    "ScaleByRms",
    "Trace",
    "weight_decay",
]
