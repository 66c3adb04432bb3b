"""Numba building blocks the generated kernels import: raw pointers and fp16/bf16 conversions.

Importing this module imports numba (the optional ``optimlab[fast]`` extra).

* ``fma`` is a fused multiply-add: torch's CPU kernels for ``add(alpha=)``, ``addcmul`` and ``lerp``
  use one, so the kernels must too to agree with them to the last bit.
* ``ptr_f32`` / ``ptr_f64`` / ``ptr_u16`` turn an integer address (``tensor.data_ptr()``) into a
  typed pointer, so one kernel call can walk a table of tensors without building numpy arrays.
* fp16 and bf16 tensors are read as their 16-bit patterns and widened to fp32 in registers; results are
  narrowed back with round-to-nearest-even, bit-identical to torch's ``Tensor.copy_`` conversions
  (``c10::BFloat16`` rounding, ``fp16_ieee_from_fp32_value``) for every non-NaN value.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, types
from numba.core.extending import intrinsic


def _pointer_intrinsic(elem):
    @intrinsic
    def cast(typingctx, addr):
        sig = types.CPointer(elem)(types.int64)

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(sig.return_type))

        return sig, codegen

    return cast


def _bitcast_intrinsic(src, dst):
    @intrinsic
    def cast(typingctx, x):
        sig = dst(src)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return sig, codegen

    return cast


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (llvm.fma), as torch's vectorized CPU kernels compute it."""
    sig = a(a, a, a)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


ptr_f32 = _pointer_intrinsic(types.float32)
ptr_f64 = _pointer_intrinsic(types.float64)
ptr_u16 = _pointer_intrinsic(types.uint16)
f32_bits = _bitcast_intrinsic(types.float32, types.uint32)
bits_f32 = _bitcast_intrinsic(types.uint32, types.float32)

_U = types.uint32


@njit(inline="always")
def bf16_load(h):
    """bf16 bit pattern -> fp32 (exact)."""
    return bits_f32(_U(h) << _U(16))


@njit(inline="always")
def bf16_store(x):
    """fp32 -> bf16 bit pattern, round to nearest even; NaN -> 0x7FC0 (as c10::BFloat16)."""
    if x != x:
        return types.uint16(0x7FC0)
    u = f32_bits(x)
    return types.uint16((u + (_U(0x7FFF) + ((u >> _U(16)) & _U(1)))) >> _U(16))


@njit(inline="always")
def f16_load(h):
    """fp16 bit pattern -> fp32 (exact, subnormals and inf/NaN included)."""
    w = _U(h)
    sign = (w & _U(0x8000)) << _U(16)
    em = w & _U(0x7FFF)
    if em >= _U(0x7C00):  # inf / NaN
        return bits_f32(sign | _U(0x7F800000) | ((em & _U(0x3FF)) << _U(13)))
    if em >= _U(0x0400):  # normal: rebias the exponent by 127 - 15
        return bits_f32(sign | ((em << _U(13)) + _U(0x38000000)))
    mag = types.float32(em) * types.float32(5.9604644775390625e-08)  # subnormal: em * 2**-24
    return bits_f32(sign | f32_bits(mag))


@njit(inline="always")
def f16_store(x):
    """fp32 -> fp16 bit pattern, round to nearest even; overflow -> inf, NaN -> 0x7E00."""
    u = f32_bits(x)
    sign = u & _U(0x80000000)
    u = u ^ sign
    if u >= _U(0x47800000):  # |x| >= 65536 (rounds to inf), inf or NaN
        h = _U(0x7E00) if u > _U(0x7F800000) else _U(0x7C00)
    elif u < _U(0x38800000):  # |x| < 2**-14: subnormal or zero, rounded by a float add
        h = f32_bits(bits_f32(u) + types.float32(0.5)) - _U(0x3F000000)
    else:
        odd = (u >> _U(13)) & _U(1)
        u = u + _U(0xC8000FFF) + odd  # rebias (15 - 127) << 23, plus the rounding bias, mod 2**32
        h = u >> _U(13)
    return types.uint16(h | (sign >> _U(16)))
