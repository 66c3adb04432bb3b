"""Per-parameter 0-d state (``step``, NAdam's ``mu_product``): advance, read, scale and assign a column.

torch dispatches an op on a 0-d CPU tensor once per tensor (``torch._foreach_*`` too, on CPU), about a
microsecond each, which for a model of 1000 parameters costs milliseconds a step. Where numba is installed,
a compiled helper walks the column by address in one call
(:mod:`optimlab.engine.backends.numba.scalars`), computing as torch does: in the tensor's own dtype, a
Python float operand first rounded to it. Otherwise the same arithmetic through torch.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def _compiled():
    from optimlab.engine.backends import numba as nb

    return nb.scalar_columns() if nb.available() else None


def values(ts: Sequence[Tensor]) -> list[float]:
    """The values of 0-d (or one-element) tensors, as Python floats."""
    if not ts:
        return []
    helper = _compiled()
    out = helper.values(ts) if helper else None
    if out is not None:
        return out
    try:
        return torch.stack(list(ts)).tolist() if len(ts) > 1 else [ts[0].item()]
    except RuntimeError:  # mixed devices or dtypes after loading a checkpoint
        return [t.item() for t in ts]


def advance(steps: Sequence[Tensor]) -> list[float]:
    """Add 1 to every ``step`` tensor (as torch's ``step += 1``); return the new values."""
    helper = _compiled()
    out = helper.advance(steps) if helper else None
    if out is not None:
        return out
    torch._foreach_add_(list(steps), 1.0)
    return values(steps)


def scale(ts: Sequence[Tensor], factor: float) -> float:
    """``t *= factor`` for each tensor in its own dtype (as torch's ``mu_product *= mu``); the new value of the
    first (a bucket's tensors share one value)."""
    helper = _compiled()
    out = helper.scale(ts, factor) if helper else None
    if out is not None:
        return out[0]
    torch._foreach_mul_(list(ts), factor)
    return ts[0].item()


def assign(ts: Sequence[Tensor], value: float) -> float:
    """Set each 0-d tensor to ``value`` as torch's ``t.copy_(torch.as_tensor(value))`` does: rounded to the
    default scalar dtype, then to the tensor's; returns the value stored in the first."""
    from optimlab.engine.state import scalar_dtype

    if scalar_dtype() == torch.float32:
        value = float(torch.tensor(value, dtype=torch.float32))
    helper = _compiled()
    if not (helper and helper.assign(ts, value)):
        for t in ts:
            t.fill_(value)
    return ts[0].item() if ts else value
