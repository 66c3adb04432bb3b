"""The op table, row by row: every implementation computes each operation as torch's function does.

The optimizers' parity tests reach the table only through the ops their rules use, on the values their
runs happen to produce. Here every row of :data:`optimlab.rules.ops.TABLE` runs alone, through a one-op
rule, on every implementation: the reference (torch's per-tensor function: the expected values),
foreach, the numba kernel and the Triton kernel (under Triton's interpreter); each must give the
reference's numbers to the bit, zeros with their sign, NaN where it has NaN (the kernels' square root
is correctly rounded: a correctly rounded one is theirs). The operands reach every branch: zeros of both
signs, NaNs (``maximum`` propagates them), lerp weights either side of 1/2 and exactly 1/2, clamp bounds
that tie with a zero of the other sign, cross (min > max) or are NaN, masked fills whose threshold equals an
operand (1.0, -0.0 against 0.0) or whose value is NaN or -0.0, and tensors of two whole Triton blocks and a
masked tail. The ops' plain math (``differentiable=True``) must agree
with the reference up to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optimlab
from optimlab.adapter import DIFFERENTIABLE, Hyper
from optimlab.engine.backends import numba as fused
from optimlab.rules import OPS, TABLE, Slot, Transform, chain
from optimlab.transforms import Descend
from optimlab.validation import Choice, Interval, Pair

pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|divide by zero) encountered:RuntimeWarning")  # interpreter
N = 2 * 1024 + 300  # two whole Triton blocks and a masked tail
NAN = float("nan")
SCALARS = {"add": (-1.3, 0.7), "add_scalar": (0.37,), "scale": (-2.5,), "div_scalar": (3.0, 0.3),
           "addcmul": (0.5, -1.7), "addcdiv": (-0.01, 2.0), "lerp": (0.1, 0.5, 0.9, -0.3),
           "clamp": ((-0.5, 0.5), (0.0, 0.7), (-0.7, -0.0), (1.0, -1.0), (NAN, 1.0), (0.0, NAN)),
           "fill_gt": ((0.0, 1.25), (1.0, -0.0), (-0.5, NAN)),
           "fill_lt": ((0.0, -3.0), (1.0, 0.0)),
           "fill_eq": ((0.0, 7.0), (1.0, NAN), (-0.0, -2.0))}
"""Per op with scalars, its cases: a number (one scalar) or a tuple (several)."""


def _padded(s) -> tuple:
    """The case's scalars as the ``s`` hyperparameter holds them (two numbers; an op reads as many as it takes)."""
    return ((s,) if not isinstance(s, tuple) else s) + (0.0,) * (2 - (len(s) if isinstance(s, tuple) else 1))


CASES = [pytest.param(op.name, _padded(s), id=f"{op.name}({s})" if op.scalars else op.name)
         for op in TABLE for s in (SCALARS[op.name] if op.scalars else (0.0,))]


class AnyNumber(Interval):
    """Every number, NaN and infinities included: an op's scalars reach every branch."""

    def contains(self, x: float) -> bool:
        return True


class ApplyOp(Transform):
    """``x <- op(x, y, z, *s)``, in place on the state buffer ``x``; the update passes through unchanged."""

    slots = (Slot("x"), Slot("y"), Slot("z"))

    def __init__(self, name, s):
        self.name, self.s = name, s

    def apply(self, ops, u, ctx):
        op = OPS[self.name]
        operands = [ctx.state[k] for k in "xyz"[:op.arity]]
        scalar = tuple(self.s[:len(op.scalars)])
        if op.has_inplace:
            getattr(ops, self.name + "_")(*operands, *scalar)
        else:  # a new-tensor-only op (detach): its result is written back with copy_
            ops.copy_(operands[0], getattr(ops, self.name)(*operands, *scalar))
        return u


class OneOp(optimlab.Optimizer):
    """One op of the table on the state buffers; ``lr=0``, so the parameters stay where they are."""

    lr: float = Hyper(0.0, Interval(0.0), "the descent step")
    op: str = Hyper("add", Choice(tuple(OPS)), "the operation")
    s: tuple[float, float] = Hyper((0.0, 0.0), Pair(AnyNumber()), "its scalar arguments (the first ones it takes)")
    differentiable: bool = DIFFERENTIABLE

    @staticmethod
    def recipe(group):
        return chain(ApplyOp(group["op"], group["s"]), Descend(group["lr"]))


def _operands(dtype):
    g = torch.Generator().manual_seed(0)
    x, y, z = (torch.randn(N, generator=g, dtype=torch.float64).to(dtype) for _ in range(3))
    nan = float("nan")
    x[:4] = torch.tensor([0.0, -0.0, nan, 1.0])
    y[:4] = torch.tensor([-0.0, nan, 1.0, nan])
    return x, y, z


def _x_after_one_step(op, s, dtype, impl, differentiable=False):
    x, y, z = _operands(dtype)
    p = torch.zeros(N, dtype=dtype)
    if differentiable:
        p = p.requires_grad_().clone()  # a step under autograd writes a non-leaf parameter
    opt = OneOp([p], op=op, s=s, impl=impl, differentiable=differentiable)
    opt.state[p].update(x=x, y=y, z=z)
    p.grad = torch.ones_like(p)
    opt.step()
    assert {name for used in opt.last_impl for name, _ in used} == {impl}
    return opt.state[p]["x"].detach()


@pytest.fixture(params=["foreach", "fused", "triton"])
def impl(request, monkeypatch):
    if request.param == "fused" and not fused.available():
        pytest.skip(fused.unavailable_reason())
    if request.param == "triton":
        pytest.importorskip("triton", reason="Triton does not install on this platform")
        monkeypatch.setenv("TRITON_INTERPRET", "1")
    return request.param


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("op, s", CASES)
def test_every_op_is_torchs_on_every_implementation(op, s, dtype, impl):
    expected = _x_after_one_step(op, s, dtype, "reference")
    x = _operands(dtype)[0]
    assert (expected != x).any()  # the op changes the values (x holds NaNs: a NaN is never equal)
    if op == "sqrt" and impl != "foreach":
        # the kernels' square root is correctly rounded; torch's on CPU (MKL's) is not always (see conftest.py)
        with np.errstate(invalid="ignore"):
            expected = torch.from_numpy(np.sqrt(x.numpy()))
    got = _x_after_one_step(op, s, dtype, impl)
    torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
    numbers = ~expected.isnan()
    assert torch.equal(got[numbers].signbit(), expected[numbers].signbit())  # zeros of the same sign


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("op, s", CASES)
def test_every_ops_plain_math_is_its_meaning(op, s, dtype):
    expected = _x_after_one_step(op, s, dtype, "reference")
    got = _x_after_one_step(op, s, dtype, "reference", differentiable=True)
    torch.testing.assert_close(got, expected, equal_nan=True)
