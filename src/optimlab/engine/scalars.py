"""Per-parameter 0-d state (``step``, NAdam's ``mu_product``): advance, read, scale and assign a column.

torch dispatches an op on a 0-d CPU tensor once per tensor (``torch._foreach_*`` too, on CPU), about a
microsecond each, which for a model of 1000 parameters costs milliseconds a step. Where numba is installed,
a compiled helper walks the column by address in one call
(:mod:`optimlab.engine.backends.numba.scalars`), computing as torch does: in the tensor's own dtype, a
Python float operand first rounded to it. Otherwise the same arithmetic through torch.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


_F32_MAX = float(np.finfo(np.float32).max)


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


def f32(value: float) -> float:
    """``value`` rounded to float32, to nearest (numpy's cast, cheaper than a tensor; beyond float32's range, a
    tensor's cast, which gives inf without numpy's overflow warning)."""
    return float(np.float32(value)) if abs(value) <= _F32_MAX else float(torch.tensor(value, dtype=torch.float32))


def _as_tensor_value(value: float) -> float:
    """``value`` as ``torch.as_tensor(value)`` holds it: rounded to the default scalar dtype."""
    from optimlab.engine.state import scalar_dtype

    return f32(value) if scalar_dtype() == torch.float32 else value


def assign(ts: Sequence[Tensor], value: float) -> float:
    """Set each 0-d tensor to ``value`` as torch's ``t.copy_(torch.as_tensor(value))`` does: rounded to the
    default scalar dtype, then to the tensor's; returns the value stored in the first."""
    return _store(ts, _as_tensor_value(value))


def _store(ts: Sequence[Tensor], value: float) -> float:
    """``t.fill_(value)`` for each tensor (rounded to its dtype); the value stored in the first."""
    helper = _compiled()
    if not (helper and helper.assign(ts, value)):
        for t in ts:
            t.fill_(value)
    return ts[0].item() if ts else value


def bind(ts: Sequence[Tensor]) -> SimpleNamespace:
    """The column's ``values()``, ``advance()`` and ``assign(value)`` (``value`` as the traced program writes
    it, already rounded as torch rounds it: stored as is), for a caller that steps the same tensors again and
    again (the steady-state plan). Where the compiled helper walks the column they are bound to the tensors'
    memory now (no per-call checks: the caller re-checks the addresses); otherwise the functions above."""
    ts = list(ts)
    helper = _compiled()
    fast = helper.bind(ts) if helper else None
    if fast is None:
        return SimpleNamespace(values=lambda: values(ts), advance=lambda: advance(ts),
                               assign=lambda value: _store(ts, value))
    return fast
