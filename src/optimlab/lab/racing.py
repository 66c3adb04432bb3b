"""``race()``: run several optimizers on one surface from one start for one step budget.

Fairness (DESIGN.md §5): with ``tune=True`` every racer without an explicit lr gets the lr with the
lowest final loss on this very surface, start and budget (:mod:`optimlab.lab.tune`); gradient clipping
happens only when asked for and is then recorded in the result (and shown in every picture's title);
everything is deterministic and cached (:mod:`optimlab.lab.cache`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence


from optimlab.validation import Integer
from optimlab.lab import racers as _racers
from optimlab.lab import surfaces as _surfaces
from optimlab.lab.cache import TrajectoryCache, open_cache
from optimlab.lab.compute import trajectories
from optimlab.lab.surfaces import Point, Surface
from optimlab.lab.trajectory import Trajectory
from optimlab.lab.tune import Tuning, tune as _tune

MAX_STEPS = 100_000


@dataclass(kw_only=True)
class Run(Trajectory):
    """One racer's trajectory. ``lr_source`` is ``"tuned"``, ``"set"`` (given explicitly) or ``"default"``."""

    label: str
    lr_source: str
    tuning: Tuning | None = None

    @property
    def legend(self) -> str:
        """``Adam  lr=0.1 (tuned)`` — the label with its learning rate, as every picture shows it."""
        lr = "lr=?" if self.lr is None else f"lr={self.lr:.3g}"
        note = f" ({self.lr_source})" if self.lr_source != "set" else ""
        tail = f", diverged at step {self.diverged_at}" if self.diverged else ""
        return f"{self.label}  {lr}{note}{tail}"


@dataclass
class RaceResult:
    surface: Surface
    runs: list[Run]
    steps: int
    start: Point
    clip: float | None = None
    tuned: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    def title(self) -> str:
        """Surface, budget, how lrs were chosen and any clipping — never hidden."""
        parts = [f"{self.surface.title}: {self.steps} steps from ({self.start[0]:g}, {self.start[1]:g})"]
        if self.tuned:
            parts.append("lr tuned per optimizer by final loss on this surface and budget")
        if self.clip is not None:
            parts.append(f"gradient norm clipped at {self.clip:g}")
        return "; ".join(parts)

    def table(self) -> str:
        """A plain-text summary: label, lr, final loss, final point."""
        width = max(len(r.label) for r in self.runs)
        lines = [f"{'optimizer':<{width}}  {'lr':>9}  {'source':<7}  {'final loss':>11}  final point"]
        for r in self.runs:
            lr = "?" if r.lr is None else f"{r.lr:.3g}"
            if r.diverged:
                tail = f"{'diverged':>11}  at step {r.diverged_at}"
            else:
                tail = f"{r.final_loss:11.4g}  ({r.path[-1, 0]:.4f}, {r.path[-1, 1]:.4f})"
            lines.append(f"{r.label:<{width}}  {lr:>9}  {r.lr_source:<7}  {tail}")
        return "\n".join(lines)


def check_steps(steps: Any) -> int:
    return Integer(1, MAX_STEPS)("steps", steps)


def check_clip(clip: Any) -> float | None:
    return None if clip is None else _racers.positive_number("clip", clip, also="None (no clipping) or ")


def race(surface: Surface | str, optimizers: Sequence[Any] | str = _racers.SEED_EIGHT, steps: int = 300,
         lrs: Mapping[str, float] | None = None, tune: bool = False, start: Sequence[float] | None = None,
         clip: float | None = None, cache: bool | str | os.PathLike | TrajectoryCache | None = True) -> RaceResult:
    """Race ``optimizers`` on ``surface``.

    Args:
        surface: a :class:`Surface` or a built-in name (see ``surfaces.names()``).
        optimizers: registry names, ``(label, factory)`` pairs (any callable returning a
            ``torch.optim.Optimizer``; it is called as ``factory([param], lr=...)``) or Racers.
        steps: the step budget (also the tuning budget).
        lrs: explicit learning rates by registry name or label; these are never tuned.
        tune: choose every other racer's lr by final loss over its log-spaced grid.
        start: the start point (default ``surface.start``); must lie inside the domain.
        clip: clip each gradient's norm to this value (shown in the title); ``None``: no clipping.
        cache: ``True`` (default folder), ``False``/``None``, a folder or a :class:`TrajectoryCache`.
    """
    surface = _surfaces.resolve(surface)
    steps = check_steps(steps)
    clip = check_clip(clip)
    start = surface.check_start(surface.start if start is None else start)
    if not isinstance(tune, bool):
        raise ValueError(f"Invalid tune: {tune!r}; allowed: True or False")
    racers = _racers.resolve(optimizers, lrs)
    store = open_cache(cache)

    free = [r for r in racers if r.lr is None]
    tunings = dict(zip((r.label for r in free), _tune(surface, free, start, steps, clip, store))) if tune else {}
    chosen: list[tuple[float | None, str]] = []
    for r in racers:
        if r.lr is not None:
            chosen.append((r.lr, "set"))
        elif r.label in tunings:
            chosen.append((tunings[r.label].lr, "tuned"))
        else:
            chosen.append((None, "default"))
    # A tuned racer's run at its chosen lr was already computed while tuning: only the others run now.
    todo = [k for k, (_, source) in enumerate(chosen) if source != "tuned"]
    fresh = iter(trajectories(surface, [(racers[k], chosen[k][0]) for k in todo], start, steps, clip, store))
    trajs = [tunings[r.label].trajectory if source == "tuned" else next(fresh)
             for r, (_, source) in zip(racers, chosen)]
    runs = [Run(path=t.path, losses=t.losses, diverged_at=t.diverged_at, lr=t.lr, label=r.label, lr_source=source,
                tuning=tunings.get(r.label))
            for r, (lr, source), t in zip(racers, chosen, trajs)]
    return RaceResult(surface, runs, steps, start, clip, tune,
                      settings={"optimizers": [r.key or r.label for r in racers], "cache": str(store.root) if store else None})
