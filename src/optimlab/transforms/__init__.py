"""The building blocks optimizers are chained from (see :mod:`optimlab.core.transform`)."""

from optimlab.transforms.adaptive import (
    ScaleByAdadelta,
    ScaleByAdagrad,
    ScaleByAdam,
    ScaleByAdamax,
    ScaleByNadam,
    ScaleByRms,
)
from optimlab.transforms.momentum import Trace
from optimlab.transforms.scale import ScaleByLearningRate
from optimlab.transforms.weight_decay import CoupledWeightDecay, DecoupledWeightDecay, weight_decay

__all__ = [
    "CoupledWeightDecay",
    "DecoupledWeightDecay",
    "ScaleByAdadelta",
    "ScaleByAdagrad",
    "ScaleByAdam",
    "ScaleByAdamax",
    "ScaleByLearningRate",
    "ScaleByNadam",
    "ScaleByRms",
    "Trace",
    "weight_decay",
]
