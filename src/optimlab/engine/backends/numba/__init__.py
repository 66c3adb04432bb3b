"""The numba backend (``impl="fused"`` on CPU): one generated kernel per bucket, from the traced rule.

:mod:`.codegen` writes a traced :class:`~optimlab.engine.trace.Program` out as a numba kernel that reads each
parameter, gradient and state element once and writes it once; :mod:`.prims` holds the pointer and
fp16/bf16 helpers it imports; :mod:`.scalars` walks columns of 0-d state tensors. numba is the optional
extra ``optimlab[fast]``; without it :func:`available` is False and ``impl="auto"`` takes foreach.
"""

from __future__ import annotations

import functools
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Sequence

import torch

from optimlab.engine.backends import cache, columns
from optimlab.engine.trace import Program

STATS = {"kernels": 0, "compiled": 0, "loaded": 0}
"""In this process: kernels made ready, of which compiled by numba and loaded from numba's disk cache."""


@functools.lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """Why the numba kernels cannot run here, or None when they can."""
    try:
        import numba  # noqa: F401

        from optimlab.engine.backends.numba import prims  # noqa: F401
    except ImportError as exc:  # numba missing, or built against another numpy
        return f"numba is not importable ({exc}); install the extra: pip install 'optimlab[fast]'"
    return None


def available() -> bool:
    return unavailable_reason() is None


_HERE = Path(__file__).parent
_VERSION = cache.code_version(_HERE / "prims.py", _HERE / "codegen.py", _HERE.parent.parent / "trace.py",
                              _HERE.parent.parent.parent / "rules" / "ops.py")
_KERNELS: dict[tuple, Callable] = {}


def _load(source: str) -> Callable:
    kernel = cache.load_module(source, "fused", _VERSION).kernel  # numba compiles here, or loads its disk cache
    hits = sum(kernel.stats.cache_hits.values())
    STATS["loaded" if hits else "compiled"] += 1
    STATS["kernels"] += 1
    return kernel


def source_for(program: Program, storage: str) -> str:
    """The generated source (for inspection and tests)."""
    from optimlab.engine.backends.numba import codegen

    return codegen.generate(program, storage)


def compiled_kernel(program: Program, storage: str) -> Callable:
    """The compiled numba kernel for ``program``'s structure over ``storage`` tensors (made once per process)."""
    return cache.memoised(_KERNELS, (program.key, storage), lambda: _load(source_for(program, storage)))


@functools.lru_cache(maxsize=None)
def _launcher(kernel) -> Callable:
    return lambda addrs, sizes, scalars, device: kernel(addrs, sizes, scalars)


def kernel_for(program: Program, storage: str) -> Callable:
    """``launch(addrs, sizes, scalars, device)`` for ``program`` (the backend interface of :mod:`..kernel`)."""
    return _launcher(compiled_kernel(program, storage))


# -- columns of 0-d state ---------------------------------------------------------------------------------

_STEP_DTYPES = {torch.float32: False, torch.float64: True}
_dtype, _is_cpu, _numel = attrgetter("dtype"), attrgetter("is_cpu"), torch.Tensor.numel


def _scalar_kind(ts: Sequence[torch.Tensor]) -> bool | None:
    """True for fp64 tensors, False for fp32; None unless all are one-element CPU tensors of one of them."""
    dtypes = set(map(_dtype, ts))
    if len(dtypes) != 1 or not all(map(_is_cpu, ts)) or set(map(_numel, ts)) != {1}:
        return None
    return _STEP_DTYPES.get(dtypes.pop())


def _column(tag: str, ts: Sequence[torch.Tensor]):
    addrs, is_f64 = columns.addresses(tag, ts, None, _scalar_kind)
    return (None, None) if is_f64 is None else (addrs, is_f64)


def _update(tag: str, ts, scale: float, shift: float) -> list[float] | None:
    from optimlab.engine.backends.numba.scalars import update

    addrs, is_f64 = _column(tag, ts)
    return None if addrs is None else update(addrs, is_f64, scale, shift).tolist()


def _assign(ts, value: float) -> bool:
    from optimlab.engine.backends.numba.scalars import assign

    addrs, is_f64 = _column("scalar", ts)
    if addrs is None:
        return False
    assign(addrs, is_f64, value)
    return True


def _bind(ts) -> SimpleNamespace | None:
    """``values()``, ``advance()`` and ``assign(value)`` bound to the column's addresses now, or None."""
    from optimlab.engine.backends.numba.scalars import assign, update

    addrs, is_f64 = _column("scalar", ts)
    if addrs is None:
        return None
    return SimpleNamespace(values=lambda: update(addrs, is_f64, 1.0, 0.0).tolist(),
                           advance=lambda: update(addrs, is_f64, 1.0, 1.0).tolist(),
                           assign=lambda value: assign(addrs, is_f64, value))


_HELPERS = SimpleNamespace(
    advance=lambda steps: _update("step", steps, 1.0, 1.0),
    values=lambda ts: _update("scalar", ts, 1.0, 0.0),
    scale=lambda ts, factor: _update("scalar", ts, factor, 0.0),
    assign=_assign,
    bind=_bind,
)


def scalar_columns() -> SimpleNamespace:
    """Compiled ``advance`` / ``values`` / ``scale`` / ``assign`` over columns of one-element CPU fp32/fp64
    tensors; each returns None (False for ``assign``) for other tensors, having done nothing. ``bind`` binds
    the first three to a column's addresses (None for other tensors)."""
    return _HELPERS
