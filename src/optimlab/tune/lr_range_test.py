"""Leslie Smith's learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
Networks", §3.3): one short run whose lr grows geometrically from ``lr_min`` to ``lr_max``,

    lr_t = lr_min · (lr_max / lr_min)^((t - 1) / (steps - 1)),  t = 1..steps,

recording the minibatch loss, smoothed by a bias-corrected exponential moving average. The run stops
once the smoothed loss exceeds ``4 ×`` its minimum (or diverges). The suggestion is the lr where the
smoothed loss falls fastest against ``log lr`` (the steepest descent before the minimum): large enough
to learn fast, below the region where training blows up. A fast first guess, not a substitute for a sweep.
"""

from __future__ import annotations

import math
from typing import Any

from optimlab.validation import Integer, LrRange


def range_test(task, optimizer: str, lr_min: float = 1e-6, lr_max: float = 10.0, steps: int = 100,
               seed: int = 0, hypers=None, smoothing: float = 0.9, stop_factor: float = 4.0) -> dict[str, Any]:
    """Run the test; returns ``{"suggested_lr", "lrs", "losses", "raw_losses", "min_loss_lr"}``."""
    from optimlab.bench import tasks

    task = tasks.get(task) if isinstance(task, str) else task
    lr_min, lr_max = LrRange(strict=True)("lr range", (lr_min, lr_max))
    steps = Integer(3)("steps", steps)
    if not 0 <= smoothing < 1:
        raise ValueError(f"Invalid smoothing: {smoothing!r}; allowed: 0 <= smoothing < 1")
    ratio = lr_max / lr_min

    def factor(t: int) -> float:
        return ratio ** ((t - 1) / (steps - 1))

    lrs: list[float] = []
    raw: list[float] = []
    smooth: list[float] = []
    avg = 0.0

    def record(t: int, loss: float) -> bool:
        nonlocal avg
        avg = smoothing * avg + (1 - smoothing) * loss
        value = avg / (1 - smoothing ** t)
        lrs.append(lr_min * factor(t))
        raw.append(loss)
        smooth.append(value)
        return value > stop_factor * min(smooth)

    task.run(optimizer, lr_min, seed=seed, steps=steps, hypers=hypers, lr_schedule=factor, callback=record)
    if len(smooth) < 3:
        raise ValueError(f"Range test on {task.name} with {optimizer} diverged within {len(smooth)} steps from "
                         f"lr_min={lr_min:g}; allowed: a smaller lr_min")
    i_min = min(range(len(smooth)), key=smooth.__getitem__)
    # steepest descent of the smoothed loss against log lr, before the minimum
    end = max(i_min, 2)
    slopes = [(smooth[i + 1] - smooth[i - 1]) / math.log(lrs[i + 1] / lrs[i - 1]) for i in range(1, end)]
    i_best = 1 + min(range(len(slopes)), key=slopes.__getitem__) if slopes else i_min
    return {"suggested_lr": lrs[i_best], "min_loss_lr": lrs[i_min], "lrs": lrs, "losses": smooth,
            "raw_losses": raw}
