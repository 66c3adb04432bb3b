"""Elementwise operations over lists of tensors: the only vocabulary update rules are written in.

Rules never call tensor methods directly; they call ``ops.<name>(...)`` on lists. The engine picks the
ops object, and with it how the rule runs:

* :class:`LoopOps` applies each operation tensor by tensor (the reference).
* :class:`ForeachOps` sends each operation to one ``torch._foreach_*`` call (multi-tensor).

A fused engine can trace the same calls into one kernel. Operations ending in ``_`` modify their
first list in place and return it; the others return new tensors and never touch their inputs, which
is how a rule keeps ``p.grad`` intact. ``scalar`` arguments are Python floats.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

TensorList = Sequence[Tensor]


class LoopOps:
    """Reference semantics: one tensor at a time."""

    name = "reference"

    # -- new tensors -------------------------------------------------------------------------
    @staticmethod
    def neg(xs: TensorList) -> list[Tensor]:
        return [torch.neg(x) for x in xs]

    @staticmethod
    def abs(xs: TensorList) -> list[Tensor]:
        return [torch.abs(x) for x in xs]

    @staticmethod
    def sqrt(xs: TensorList) -> list[Tensor]:
        return [torch.sqrt(x) for x in xs]

    @staticmethod
    def add(xs: TensorList, ys: TensorList, alpha: float = 1.0) -> list[Tensor]:
        return [torch.add(x, y, alpha=alpha) for x, y in zip(xs, ys)]

    @staticmethod
    def add_scalar(xs: TensorList, scalar: float) -> list[Tensor]:
        return [torch.add(x, scalar) for x in xs]

    @staticmethod
    def mul(xs: TensorList, scalar: float) -> list[Tensor]:
        return [torch.mul(x, scalar) for x in xs]

    @staticmethod
    def div(xs: TensorList, ys: TensorList) -> list[Tensor]:
        return [torch.div(x, y) for x, y in zip(xs, ys)]

    @staticmethod
    def addcmul(xs: TensorList, ys: TensorList, zs: TensorList, value: float = 1.0) -> list[Tensor]:
        return [torch.addcmul(x, y, z, value=value) for x, y, z in zip(xs, ys, zs)]

    @staticmethod
    def addcdiv(xs: TensorList, ys: TensorList, zs: TensorList, value: float = 1.0) -> list[Tensor]:
        return [torch.addcdiv(x, y, z, value=value) for x, y, z in zip(xs, ys, zs)]

    # -- in place ----------------------------------------------------------------------------
    @staticmethod
    def copy_(xs: TensorList, ys: TensorList) -> TensorList:
        for x, y in zip(xs, ys):
            x.copy_(y)
        return xs

    @staticmethod
    def add_(xs: TensorList, ys: TensorList, alpha: float = 1.0) -> TensorList:
        for x, y in zip(xs, ys):
            x.add_(y, alpha=alpha)
        return xs

    @staticmethod
    def add_scalar_(xs: TensorList, scalar: float) -> TensorList:
        for x in xs:
            x.add_(scalar)
        return xs

    @staticmethod
    def mul_(xs: TensorList, scalar: float) -> TensorList:
        for x in xs:
            x.mul_(scalar)
        return xs

    @staticmethod
    def mul_tensors_(xs: TensorList, ys: TensorList) -> TensorList:
        for x, y in zip(xs, ys):
            x.mul_(y)
        return xs

    @staticmethod
    def div_(xs: TensorList, ys: TensorList) -> TensorList:
        for x, y in zip(xs, ys):
            x.div_(y)
        return xs

    @staticmethod
    def sqrt_(xs: TensorList) -> TensorList:
        for x in xs:
            x.sqrt_()
        return xs

    @staticmethod
    def lerp_(xs: TensorList, ys: TensorList, weight: float) -> TensorList:
        for x, y in zip(xs, ys):
            x.lerp_(y, weight)
        return xs

    @staticmethod
    def addcmul_(xs: TensorList, ys: TensorList, zs: TensorList, value: float = 1.0) -> TensorList:
        for x, y, z in zip(xs, ys, zs):
            x.addcmul_(y, z, value=value)
        return xs

    @staticmethod
    def addcdiv_(xs: TensorList, ys: TensorList, zs: TensorList, value: float = 1.0) -> TensorList:
        for x, y, z in zip(xs, ys, zs):
            x.addcdiv_(y, z, value=value)
        return xs

    @staticmethod
    def maximum_(xs: TensorList, ys: TensorList) -> TensorList:
        for x, y in zip(xs, ys):
            torch.maximum(x, y, out=x)
        return xs


def _foreach_new(torch_name: str):
    fn = getattr(torch, torch_name)

    def op(*args, **kwargs):
        return list(fn(*args, **kwargs))

    return staticmethod(op)


def _foreach_inplace(torch_name: str):
    fn = getattr(torch, torch_name)

    def op(xs, *args, **kwargs):
        fn(xs, *args, **kwargs)
        return xs

    return staticmethod(op)


# LoopOps method -> the torch._foreach_* function with the same semantics over a whole list.
_FOREACH = {
    "neg": "_foreach_neg", "abs": "_foreach_abs", "sqrt": "_foreach_sqrt", "add": "_foreach_add",
    "add_scalar": "_foreach_add", "mul": "_foreach_mul", "div": "_foreach_div",
    "addcmul": "_foreach_addcmul", "addcdiv": "_foreach_addcdiv",
    "copy_": "_foreach_copy_", "add_": "_foreach_add_", "add_scalar_": "_foreach_add_",
    "mul_": "_foreach_mul_", "mul_tensors_": "_foreach_mul_", "div_": "_foreach_div_",
    "sqrt_": "_foreach_sqrt_", "lerp_": "_foreach_lerp_", "addcmul_": "_foreach_addcmul_",
    "addcdiv_": "_foreach_addcdiv_", "maximum_": "_foreach_maximum_",
}

ForeachOps = type(
    "ForeachOps",
    (LoopOps,),
    {
        "__doc__": "Multi-tensor semantics: one ``torch._foreach_*`` kernel launch per operation.",
        "name": "foreach",
        **{m: (_foreach_inplace(t) if m.endswith("_") else _foreach_new(t)) for m, t in _FOREACH.items()},
    },
)


OPS = {LoopOps.name: LoopOps, ForeachOps.name: ForeachOps}
