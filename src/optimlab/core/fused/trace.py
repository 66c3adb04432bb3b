"""Tracing a chain: :class:`TraceOps` runs the same rule source on symbolic tensors and records a program.

Every list operation of :class:`~optimlab.core.ops.LoopOps` has a method of the same name here. Lists
hold :class:`Sym` objects — one per buffer, standing for every tensor of the bucket at once, since
each operation is elementwise. An operation appends one line ``(op, out, operands)`` to the
:class:`Program`; an in-place operation rebinds its :class:`Sym` to the new value, so aliasing
(``list(buf)`` sharing the buffer) behaves as with real tensors.

Each Python number an operation receives (lr, betas, bias corrections, ...) becomes a numbered
*scalar argument* of the kernel, so the program's :attr:`Program.key` depends only on the structure of
the chain, never on hyperparameter values: a changing learning rate reuses the same kernel.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# Elementwise formulas, one per recorded op, as torch's CPU kernels evaluate them: left to right, with a
# fused multiply-add where ATen's vectorized kernels use one (add with alpha, addcmul, lerp).
# a, b, c: tensor operands; s: the scalar argument.
FORMULAS = {
    "neg": "-{a}",
    "abs": "np.abs({a})",
    "sqrt": "np.sqrt({a})",
    "axpy": "fma({s}, {b}, {a})",          # add(x, y, alpha) = x + alpha * y
    "add_scalar": "{a} + {s}",
    "mul": "{a} * {s}",
    "div": "{a} / {b}",
    "mul_tensors": "{a} * {b}",
    "addcmul": "fma({s} * {b}, {c}, {a})",
    "addcdiv": "{a} + {s} * {b} / {c}",
    "lerp_small": "fma({s}, {b} - {a}, {a})",      # |w| < 0.5, s = w
    "lerp_large": "fma({s}, {b} - {a}, {b})",      # otherwise, s = w - 1 (rounded in the compute dtype)
    "maximum": "{a} if ({a} > {b} or {a} != {a}) else {b}",  # NaN-propagating, as torch.maximum
}


class Sym:
    """A symbolic tensor: ``ref`` names its current value in the program."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Sym({self.ref})"


class Program:
    """The recorded lines, the scalar arguments and the buffers a traced chain reads and writes."""

    def __init__(self, buffers: Sequence[str], compute_dtype: np.dtype) -> None:
        self.buffers = tuple(buffers)
        self.inputs = {name: Sym(f"x{i}") for i, name in enumerate(self.buffers)}
        self.initial = {name: sym.ref for name, sym in self.inputs.items()}
        self.lines: list[tuple] = []
        self.scalars: list[float] = []
        self.dtype = np.dtype(compute_dtype)

    def scalar(self, value: float) -> int:
        self.scalars.append(float(value))
        return len(self.scalars) - 1

    def emit(self, op: str, operands: Sequence[Sym], scalar: float | None = None) -> str:
        out = f"t{len(self.lines)}"
        k = -1 if scalar is None else self.scalar(scalar)
        self.lines.append((op, out, tuple(x.ref for x in operands), k))
        return out

    def stores(self) -> tuple[tuple[int, str], ...]:
        """``(buffer index, final ref)`` for every buffer whose value changed (the gradient never is)."""
        out = []
        for i, name in enumerate(self.buffers):
            ref = self.inputs[name].ref
            if ref != self.initial[name]:
                if name == "grad":
                    raise RuntimeError("a transform modified the gradient in place; rules must use "
                                       "out-of-place ops on the incoming update")
                out.append((i, ref))
        return tuple(out)

    def loads(self) -> tuple[tuple[int, str], ...]:
        """``(buffer index, initial ref)`` for every buffer the kernel must load: one a line reads, or one
        whose initial value is stored into another buffer."""
        used = {ref for _, _, operands, _ in self.lines for ref in operands}
        used.update(ref for _, ref in self.stores())
        return tuple((i, self.initial[name]) for i, name in enumerate(self.buffers) if self.initial[name] in used)

    def touched(self) -> list[int]:
        """Indices of the buffers the kernel loads or stores."""
        return sorted({i for i, _ in self.loads()} | {i for i, _ in self.stores()})

    def expressions(self, formulas: dict[str, str], **names: str):
        """``(out, expression)`` per line, each op written with ``formulas`` (a code generator's table), its
        operands as ``{a}``, ``{b}``, ``{c}``, its scalar argument as ``{s}`` (named ``s<k>``) and ``names``."""
        for op, out, operands, k in self.lines:
            fields = dict(zip("abc", operands), **names)
            if k >= 0:
                fields["s"] = f"s{k}"
            yield out, formulas[op].format(**fields)

    @property
    def key(self) -> tuple:
        """The structure: what selects (and caches) a kernel. Scalar values are not part of it."""
        return (self.buffers, tuple(self.lines), self.stores())


def _new(prog: Program, op: str, xs: Sequence[Sym], *more: Sequence[Sym], scalar: float | None = None) -> list[Sym]:
    return [Sym(prog.emit(op, (x, *others), scalar)) for x, *others in zip(xs, *more)]


def _inplace(prog: Program, op: str, xs: Sequence[Sym], *more: Sequence[Sym], scalar: float | None = None):
    for x, *others in zip(xs, *more):
        x.ref = prog.emit(op, (x, *others), scalar)
    return xs


class TraceOps:
    """The list operations of :class:`~optimlab.core.ops.LoopOps`, recorded into ``program``."""

    name = "trace"

    def __init__(self, program: Program) -> None:
        self.program = program

    # -- new tensors -------------------------------------------------------------------------
    def neg(self, xs):
        return _new(self.program, "neg", xs)

    def abs(self, xs):
        return _new(self.program, "abs", xs)

    def sqrt(self, xs):
        return _new(self.program, "sqrt", xs)

    def add(self, xs, ys, alpha=1.0):
        return _new(self.program, "axpy", xs, ys, scalar=alpha)

    def add_scalar(self, xs, scalar):
        return _new(self.program, "add_scalar", xs, scalar=scalar)

    def mul(self, xs, scalar):
        return _new(self.program, "mul", xs, scalar=scalar)

    def div(self, xs, ys):
        return _new(self.program, "div", xs, ys)

    def addcmul(self, xs, ys, zs, value=1.0):
        return _new(self.program, "addcmul", xs, ys, zs, scalar=value)

    def addcdiv(self, xs, ys, zs, value=1.0):
        return _new(self.program, "addcdiv", xs, ys, zs, scalar=value)

    # -- in place ----------------------------------------------------------------------------
    def copy_(self, xs, ys):
        for x, y in zip(xs, ys):
            x.ref = y.ref
        return xs

    def add_(self, xs, ys, alpha=1.0):
        return _inplace(self.program, "axpy", xs, ys, scalar=alpha)

    def add_scalar_(self, xs, scalar):
        return _inplace(self.program, "add_scalar", xs, scalar=scalar)

    def mul_(self, xs, scalar):
        return _inplace(self.program, "mul", xs, scalar=scalar)

    def mul_tensors_(self, xs, ys):
        return _inplace(self.program, "mul_tensors", xs, ys)

    def div_(self, xs, ys):
        return _inplace(self.program, "div", xs, ys)

    def sqrt_(self, xs):
        return _inplace(self.program, "sqrt", xs)

    def lerp_(self, xs, ys, weight):
        w = self.program.dtype.type(weight)
        if abs(w) < 0.5:
            return _inplace(self.program, "lerp_small", xs, ys, scalar=weight)
        return _inplace(self.program, "lerp_large", xs, ys, scalar=float(w - self.program.dtype.type(1)))

    def addcmul_(self, xs, ys, zs, value=1.0):
        return _inplace(self.program, "addcmul", xs, ys, zs, scalar=value)

    def addcdiv_(self, xs, ys, zs, value=1.0):
        return _inplace(self.program, "addcdiv", xs, ys, zs, scalar=value)

    def maximum_(self, xs, ys):
        return _inplace(self.program, "maximum", xs, ys)
