"""Successive halving over learning rates: spend fewer steps on bad ones.

With ``n`` learning rates, reduction factor ``η`` and ``R = min(max_rungs - 1, ⌊log_η n⌋)``, rung
``r = 0..R`` trains every surviving lr (all seeds, each from scratch) for ``steps · η^(r - R)`` steps and
keeps the best ``⌈survivors / η⌉`` by mean validation loss (diverged lrs never survive). The last rung
runs the full budget, so the chosen lr is judged exactly as a grid sweep would judge it, for about
``(R + 1) · n / η^R`` instead of ``n`` full runs.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from optimlab.tune.grid import mean_loss

Evaluate = Callable[[Sequence[float], int], list[dict[str, Any]]]


def rung_budgets(n_lrs: int, steps: int, eta: int = 3, max_rungs: int = 3) -> list[int]:
    """Step budgets of the rungs, smallest first; the last is ``steps``."""
    if not (isinstance(eta, int) and eta >= 2):
        raise ValueError(f"Invalid eta: {eta!r}; allowed: an integer >= 2")
    r_max = min(max_rungs - 1, int(math.floor(math.log(n_lrs, eta) + 1e-9))) if n_lrs > 1 else 0
    return [max(1, round(steps / eta ** (r_max - r))) for r in range(r_max + 1)]


def successive_halving(lrs: Sequence[float], steps: int, evaluate: Evaluate, eta: int = 3,
                       max_rungs: int = 3) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the rungs; ``evaluate(lrs, steps)`` returns per-lr summaries (see :func:`grid.summarise`).

    Returns ``(final, per_lr)``: the last rung's summaries (full budget; best lr and robust range are
    chosen among them) and, for every lr, the summary of the last rung it reached (``"rung"`` added).
    """
    survivors = sorted(lrs)
    last: dict[float, dict[str, Any]] = {}
    final: list[dict[str, Any]] = []
    budgets = rung_budgets(len(survivors), steps, eta, max_rungs)
    for rung, budget in enumerate(budgets):
        entries = evaluate(survivors, budget)
        for e in entries:
            last[e["lr"]] = {**e, "rung": rung}
        final = entries
        finite = sorted((e for e in entries if math.isfinite(mean_loss(e))), key=mean_loss)
        if rung == len(budgets) - 1 or not finite:
            break
        keep = max(1, math.ceil(len(survivors) / eta))
        survivors = sorted(e["lr"] for e in finite[:keep])
    return final, [last[lr] for lr in sorted(last)]
