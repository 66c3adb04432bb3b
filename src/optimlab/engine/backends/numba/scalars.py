"""Compiled helpers for per-parameter 0-d state (``step``, NAdam's ``mu_product``).

torch dispatches an op on a 0-d CPU tensor once per tensor (``torch._foreach_*`` too, on CPU), about a
microsecond or more each, which for a model of 1000 parameters costs milliseconds a step. These
functions walk a column of such tensors by address (one element each, fp32 or fp64) in one call and
compute as torch does: in the tensor's own dtype, a Python float operand first rounded to it.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, types

from optimlab.engine.backends.numba.prims import ptr_f32, ptr_f64


@njit("float64[::1](int64[::1], boolean, float64, float64)", cache=True, nogil=True)
def update(addrs, is_f64, scale, shift):
    """``x <- x * scale + shift`` on each 0-d tensor at ``addrs``, as two roundings in the tensor's dtype
    (skipped when ``scale`` is 1 or ``shift`` is 0); returns the new values."""
    out = np.empty(addrs.shape[0], np.float64)
    for i in range(addrs.shape[0]):
        if is_f64:
            c64 = carray(ptr_f64(addrs[i]), 1)
            if scale != 1.0:
                c64[0] *= scale
            if shift != 0.0:
                c64[0] += shift
            out[i] = c64[0]
        else:
            c32 = carray(ptr_f32(addrs[i]), 1)
            if scale != 1.0:
                c32[0] *= types.float32(scale)
            if shift != 0.0:
                c32[0] += types.float32(shift)
            out[i] = c32[0]
    return out


@njit("void(int64[::1], boolean, float64)", cache=True, nogil=True)
def assign(addrs, is_f64, value):
    """``x <- value`` (rounded to the tensor's dtype) on each 0-d tensor at ``addrs``."""
    v32 = types.float32(value)
    for i in range(addrs.shape[0]):
        if is_f64:
            carray(ptr_f64(addrs[i]), 1)[0] = value
        else:
            carray(ptr_f32(addrs[i]), 1)[0] = v32
