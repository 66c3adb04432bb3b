"""Trajectories for (racer, learning rate) requests: from the cache, else computed in lockstep chunks.

Misses run :data:`CHUNK` at a time and each chunk is saved as soon as it finishes, so a killed tuning
run resumes from the last finished chunk and never redoes a saved trajectory.
"""

from __future__ import annotations

from typing import Sequence

from optimlab.lab import trajectory
from optimlab.lab.cache import TrajectoryCache, make_key
from optimlab.lab.racers import Racer
from optimlab.lab.surfaces import Point, Surface

CHUNK = 32


def request_key(surface: Surface, racer: Racer, lr: float | None, start: Point, steps: int,
                clip: float | None) -> str | None:
    if racer.key is None:
        return None
    return make_key(optimizer=racer.key, hypers=dict(sorted(racer.hypers.items())), lr=lr, surface=surface.key,
                    start=list(start), steps=steps, clip=clip)


def trajectories(surface: Surface, requests: Sequence[tuple[Racer, float | None]], start: Point, steps: int,
                 clip: float | None = None, cache: TrajectoryCache | None = None) -> list[trajectory.Trajectory]:
    """One trajectory per ``(racer, lr)`` request (``lr=None``: the factory's default), in order."""
    out: list[trajectory.Trajectory | None] = [None] * len(requests)
    keys = [request_key(surface, r, lr, start, steps, clip) for r, lr in requests]
    todo = []
    for i, key in enumerate(keys):
        hit = cache.load(key) if cache is not None and key is not None else None
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit
    for c in range(0, len(todo), CHUNK):
        chunk = todo[c:c + CHUNK]
        jobs = []
        for i in chunk:
            racer, lr = requests[i]
            hypers = dict(racer.hypers) if lr is None else {**racer.hypers, "lr": lr}
            jobs.append(trajectory.Job(racer.factory, hypers))
        for i, traj in zip(chunk, trajectory.run(surface, jobs, start, steps, clip)):
            out[i] = traj
            if cache is not None and keys[i] is not None:
                cache.save(keys[i], traj)
    return out  # type: ignore[return-value]
