"""The fused engine: each bucket's step is one generated kernel, traced from the optimizer's own rule.

:mod:`.trace` runs the chain on symbols and records its elementwise program; :mod:`.codegen` turns the
program into a numba kernel that reads each parameter, gradient and state element once and writes it
once; :mod:`.kernels` caches kernels on disk and in process; :mod:`.runner` is the engine
implementation ``impl="fused"`` (preferred by ``impl="auto"`` on CPU). numba is the optional extra
``optimlab[fast]``; without it :func:`available` is False and ``"auto"`` uses foreach.

For CUDA tensors, :mod:`.triton_codegen` writes the same traced program out as a Triton kernel and
:mod:`.triton_kernels` caches and launches it: ``impl="triton"``, preferred by ``"auto"`` on CUDA.
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


def _scalar_kind(ts: Sequence[torch.Tensor]) -> bool | None:
    """True for fp64 tensors, False for fp32; None unless all are one-element CPU tensors of one of them."""
    dtypes = set(map(_dtype, ts))
    if len(dtypes) != 1 or not all(map(_is_cpu, ts)) or set(map(_numel, ts)) != {1}:
        return None
    return _STEP_DTYPES.get(dtypes.pop())


def _update_scalars(tag: str, ts: Sequence[torch.Tensor], scale: float, shift: float) -> list[float] | None:
    from optimlab.core.fused.columns import addresses
    from optimlab.core.fused.scalars import update

    addrs, is_f64 = addresses(tag, ts, None, _scalar_kind)
    if is_f64 is None:
        return None
    return update(addrs, is_f64, scale, shift).tolist()


def advance_steps(steps: Sequence[torch.Tensor]) -> list[float] | None:
    """Add 1 to CPU fp32/fp64 ``step`` tensors in one compiled call; None if some are not such tensors."""
    return _update_scalars("step", steps, 1.0, 1.0)


def scalar_values(ts: Sequence[torch.Tensor]) -> list[float] | None:
    """The values of one-element CPU fp32/fp64 tensors, read in one compiled call; None for other tensors."""
    return _update_scalars("scalar", ts, 1.0, 0.0)


def scale_scalars(ts: Sequence[torch.Tensor], factor: float) -> list[float] | None:
    """Multiply one-element CPU fp32/fp64 tensors by ``factor`` in their dtype (as ``Tensor.mul_``); the new
    values, or None (nothing done) for other tensors."""
    return _update_scalars("scalar", ts, factor, 0.0)
