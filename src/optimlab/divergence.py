"""When a run has diverged: one rule for the lab's races and the tuner's tasks.

A run diverges when its loss is not finite or :math:`|f| > \\text{factor}\\cdot\\max(1, |f_0|)`, with
:math:`f_0` the loss at the start. Each context picks its factor (a task's ``divergence_factor``; the lab's
surfaces, whose losses legitimately swing over decades, use :data:`SURFACE_FACTOR`).
"""

from __future__ import annotations

import math

SURFACE_FACTOR = 1e6


def limit(start: float, factor: float) -> float:
    """The largest ``|loss|`` a run starting at loss ``start`` may reach."""
    return factor * max(1.0, abs(start))


def exceeded(loss: float, bound: float) -> bool:
    """``loss`` is not finite or its magnitude exceeds ``bound`` (from :func:`limit`)."""
    return not (math.isfinite(loss) and abs(loss) <= bound)
