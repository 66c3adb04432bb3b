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
_dtype, _is_cpu = attrgetter("dtype"), attrgetter("is_cpu")


def advance_steps(steps: Sequence[torch.Tensor]) -> list[float] | None:
    """Add 1 to CPU fp32/fp64 ``step`` tensors in one compiled call; None if some are not such tensors."""
    import numpy as np

    from optimlab.core.fused.prims import advance_steps as advance

    dtypes = set(map(_dtype, steps))
    if len(dtypes) != 1 or not all(map(_is_cpu, steps)):
        return None
    is_f64 = _STEP_DTYPES.get(dtypes.pop())
    if is_f64 is None:
        return None
    addrs = np.fromiter(map(torch.Tensor.data_ptr, steps), np.int64, len(steps))
    return advance(addrs, is_f64).tolist()
