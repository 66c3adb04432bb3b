"""Running optimizers on a surface: many independent trajectories in lockstep.

A 2-D parameter is tiny, so per-step Python overhead dominates. Every trajectory keeps its own leaf
tensor and its own optimizer, but the surface is evaluated once per step for all of them: the
parameters are stacked into a ``(B, 2)`` tensor, ``f`` (which maps ``(..., 2)`` to ``(...)``) is
differentiated once, and each optimizer gets its row of the gradient. Rows do not interact, so each
trajectory is exactly what it would be alone. An optimizer whose ``step`` requires a closure (L-BFGS)
gets one that re-evaluates the surface at its own parameter, as often as its line search needs.

A trajectory diverges by :mod:`optimlab.divergence`'s rule (the tuner's too): its loss becomes non-finite
or its magnitude exceeds ``SURFACE_FACTOR · max(1, |f(start)|)``; it stops there and the rest of its path
and losses are NaN.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from optimlab import divergence
from optimlab.lab.surfaces import Point, Surface

GRAD_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6)

Factory = Callable[..., torch.optim.Optimizer]


@dataclass(frozen=True)
class Job:
    """One trajectory to run: ``factory([param], **hypers)`` builds its optimizer."""

    factory: Factory
    hypers: dict[str, Any]


@dataclass
class Trajectory:
    """Positions ``path`` (steps+1, 2) and full losses ``losses`` (steps+1,) from the start on.

    ``diverged_at`` is the first step whose loss exploded (``None`` if it never did); ``lr`` is the
    learning rate the optimizer was built with (read from its first param group).
    """

    path: np.ndarray
    losses: np.ndarray
    diverged_at: int | None = None
    lr: float | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        """The last loss, ``inf`` for a diverged run (the tuning objective)."""
        return math.inf if self.diverged else float(self.losses[-1])


def clip_rows(grad: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Clip each row's Euclidean norm to ``max_norm`` (torch.nn.utils.clip_grad_norm_ per trajectory)."""
    norm = torch.linalg.vector_norm(grad, dim=-1, keepdim=True)
    return grad * torch.clamp(max_norm / (norm + GRAD_EPS), max=1.0)


def needs_closure(opt: torch.optim.Optimizer) -> bool:
    """Whether ``opt.step`` requires a closure (L-BFGS and other line-search methods re-evaluate the loss)."""
    try:
        closure = inspect.signature(opt.step).parameters.get("closure")
    except (TypeError, ValueError):
        return False
    return closure is not None and closure.default is inspect.Parameter.empty


def _closure(surface: Surface, p: torch.Tensor, t: int, clip: float | None) -> Callable[[], torch.Tensor]:
    """Re-evaluate the surface (step ``t``'s minibatch) at ``p`` alone and set its gradient."""
    def closure() -> torch.Tensor:
        with torch.enable_grad():
            x = p.detach().requires_grad_(True)
            loss = surface.loss(x, t)
            (g,) = torch.autograd.grad(loss, x)
        p.grad = g if clip is None else clip_rows(g, clip)
        return loss.detach()
    return closure


def _lr_of(opt: torch.optim.Optimizer) -> float | None:
    lr = opt.param_groups[0].get("lr") if opt.param_groups else None
    try:
        return float(lr)
    except (TypeError, ValueError):
        return None


def run(surface: Surface, jobs: Sequence[Job], start: Point, steps: int, clip: float | None = None) -> list[Trajectory]:
    """Run every job for ``steps`` steps from ``start``; one trajectory per job, in order."""
    n = len(jobs)
    if n == 0:
        return []
    params = [torch.tensor(start, dtype=torch.float64, requires_grad=True) for _ in jobs]
    opts = [job.factory([p], **job.hypers) for p, job in zip(params, jobs)]
    lrs = [_lr_of(opt) for opt in opts]
    closures = [needs_closure(opt) for opt in opts]
    start_t = torch.tensor(start, dtype=torch.float64)
    with torch.no_grad():
        f0 = float(surface.f(start_t))
    limit = divergence.limit(f0, divergence.SURFACE_FACTOR)
    diverged_at: list[int | None] = [None] * n
    active = list(range(n))
    # positions[t] holds the active rows' positions at step t (stacked for the gradient anyway)
    positions: list[tuple[list[int], torch.Tensor]] = []
    for t in range(steps):
        with torch.no_grad():
            x = torch.stack([params[i] for i in active])
        positions.append((active, x))
        x = x.requires_grad_(True)
        loss = surface.loss(x, t)
        (grad,) = torch.autograd.grad(loss.sum(), x)
        if clip is not None:
            grad = clip_rows(grad, clip)
        rows = grad.unbind(0)
        bad = ~(torch.isfinite(grad).all(-1) & (loss.abs() <= limit))  # NaN fails the comparison too
        if bool(bad.any()):
            flags = bad.tolist()
            for i in [i for i, b in zip(active, flags) if b]:
                diverged_at[i] = t
            rows = [g for g, b in zip(rows, flags) if not b]
            active = [i for i, b in zip(active, flags) if not b]
        for i, g in zip(active, rows):
            if closures[i]:  # evaluates the surface itself, as often as its line search needs
                opts[i].step(_closure(surface, params[i], t, clip))
            else:
                params[i].grad = g
                opts[i].step()
        if not active:
            break
    else:
        with torch.no_grad():
            positions.append((active, torch.stack([params[i] for i in active])))
    path = torch.full((n, steps + 1, 2), math.nan, dtype=torch.float64)
    for t, (idx, x) in enumerate(positions):
        path[idx, t] = x.detach()
    with torch.no_grad():
        losses = surface.f(path)
    out = []
    for i in range(n):
        p, ls = path[i].numpy(), losses[i].numpy()
        if diverged_at[i] is None:
            bad = ~np.isfinite(ls) | (np.abs(ls) > limit)
            if bad.any():  # e.g. a minibatch loss stayed finite while the full loss exploded
                diverged_at[i] = int(np.argmax(bad))
        if diverged_at[i] is not None:
            p[diverged_at[i]:] = math.nan
            ls[diverged_at[i]:] = math.nan
        out.append(Trajectory(p.copy(), ls.copy(), diverged_at[i], lrs[i]))
    return out
