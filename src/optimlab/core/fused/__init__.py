"""The fused engine: each bucket's step is one generated kernel, traced from the optimizer's own rule.

:mod:`.trace` runs the chain on symbols and records its elementwise program; :mod:`.codegen` turns the
program into a numba kernel that reads each parameter, gradient and state element once and writes it
once; :mod:`.kernels` caches kernels on disk and in process; :mod:`.runner` is the engine
implementation ``impl="fused"`` (preferred by ``impl="auto"`` on CPU). numba is the optional extra
``optimlab[fast]``; without it :func:`available` is False and ``"auto"`` uses foreach.
"""

from __future__ import annotations

import functools
from operator import attrgetter
from typing import Sequence

import torch


@functools.lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """Why the fused engine cannot run here, or None when it can."""
    try:
        import numba  # noqa: F401

        from optimlab.core.fused import prims  # noqa: F401
    except ImportError as exc:  # numba missing, or built against another numpy
        return f"numba is not importable ({exc}); install the extra: pip install 'optimlab[fast]'"
    return None


def available() -> bool:
    return unavailable_reason() is None


_STEP_DTYPES = {torch.float32: False, torch.float64: True}
_dtype, _is_cpu, _numel = attrgetter("dtype"), attrgetter("is_cpu"), torch.Tensor.numel


def _step_kind(steps: Sequence[torch.Tensor]) -> bool | None:
    """True for fp64 ``step`` tensors, False for fp32; None unless all are one-element CPU tensors of one of them."""
    dtypes = set(map(_dtype, steps))
    if len(dtypes) != 1 or not all(map(_is_cpu, steps)) or set(map(_numel, steps)) != {1}:
        return None
    return _STEP_DTYPES.get(dtypes.pop())


def advance_steps(steps: Sequence[torch.Tensor]) -> list[float] | None:
    """Add 1 to CPU fp32/fp64 ``step`` tensors in one compiled call; None if some are not such tensors."""
    from optimlab.core.fused.columns import addresses
    from optimlab.core.fused.prims import advance_steps as advance

    addrs, is_f64 = addresses("step", steps, None, _step_kind)
    if is_f64 is None:
        return None
    return advance(addrs, is_f64).tolist()
