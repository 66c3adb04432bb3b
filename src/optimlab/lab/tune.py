"""Fair learning rates: each racer's lr chosen on the same surface, start and step budget as the race.

The grid is the racer's log-spaced range (the registry's ``spec.lr_grid()`` for registry optimizers);
the objective is the final loss :math:`f(\\theta_T)` (never the distance to a known minimum); a run whose
loss becomes non-finite or explodes counts as :math:`+\\infty`. Ties go to the smaller learning rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from optimlab.lab.cache import TrajectoryCache
from optimlab.lab.compute import trajectories
from optimlab.lab.racers import Racer
from optimlab.lab.surfaces import Point, Surface
from optimlab.lab.trajectory import Trajectory


@dataclass(frozen=True)
class Tuning:
    """The grid tried, the final loss of each (``inf`` = diverged), the chosen learning rate and its run."""

    grid: tuple[float, ...]
    final_losses: tuple[float, ...]
    lr: float
    trajectory: Trajectory | None = field(default=None, repr=False, compare=False)

    @property
    def all_diverged(self) -> bool:
        return all(math.isinf(v) for v in self.final_losses)


def choose(grid: Sequence[float], final_losses: Sequence[float]) -> float:
    """The lr with the smallest final loss (NaN counts as diverged); the smallest lr if all diverged."""
    scored = [(math.inf if math.isnan(v) else v, lr) for lr, v in zip(grid, final_losses)]
    return min(scored)[1]


def tune(surface: Surface, racers: Sequence[Racer], start: Point, steps: int, clip: float | None = None,
         cache: TrajectoryCache | None = None) -> list[Tuning]:
    """One :class:`Tuning` per racer, all grids run together (and cached trial by trial)."""
    requests = [(r, lr) for r in racers for lr in r.lr_grid]
    runs = trajectories(surface, requests, start, steps, clip, cache)
    out, i = [], 0
    for r in racers:
        n = len(r.lr_grid)
        losses = tuple(t.final_loss for t in runs[i:i + n])
        lr = choose(r.lr_grid, losses)
        out.append(Tuning(tuple(r.lr_grid), losses, lr, runs[i + list(r.lr_grid).index(lr)]))
        i += n
    return out
