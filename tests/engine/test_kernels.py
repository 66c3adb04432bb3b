"""Kernel generation: traced from the rule source, compiled once, reused across lr changes and processes."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import optimlab
from optimlab.engine.backends import numba as kernels
from optimlab.engine.trace import Program, TraceOps
from optimlab.rules import LoopOps
from tests.helpers import loss_fn


def _public(cls) -> set[str]:
    return {n for n, _ in inspect.getmembers(cls) if not n.startswith("_") and n != "name"}


def test_tracer_speaks_every_list_op():
    assert _public(LoopOps) <= _public(TraceOps)


def _program(lr: float) -> Program:
    """Adam's chain traced for one fp32 bucket at step 3."""
    from optimlab.engine.backends.kernel import trace
    from optimlab.engine.state import Bucket

    job = optimlab.Adam.job({"lr": lr, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                             "decoupled_weight_decay": False})
    bucket = Bucket([torch.zeros(2)], [torch.zeros(2)], [{}], 3.0, (False,) * len(job.chain), {}, job.chain)
    table = type("T", (), {"storage": "float32", "buffers": ("param", "grad", "exp_avg", "exp_avg_sq")})
    return trace(job, bucket, table)


def test_scalars_are_arguments_not_structure():
    a, b = _program(1e-3), _program(0.5)
    assert a.key == b.key
    bc1 = 1 - 0.9 ** 3
    assert -1e-3 / bc1 in a.scalars and -0.5 / bc1 in b.scalars
    source = kernels.source_for(a, "float32")
    assert "0.001" not in source and "0.999" not in source  # no hyperparameter baked into the code


def test_scalars_are_recomputed_without_tracing_again():
    """The traced scalar program gives, for another step and lr, exactly what tracing at those values gives."""
    a = _program(1e-3)
    group = {"lr": 0.25, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
             "decoupled_weight_decay": False}
    args, writes = a.evaluate(group, 3.0, {})
    assert list(args) == _program(0.25).scalars and writes == ()


def test_a_rule_that_freezes_a_traced_number_fails_loudly():
    """``float()`` of a number the tracer follows would bake this step's value into the kernel for every later
    step: the tracer refuses it, and the step changes nothing."""
    from optimlab.adapter import Hyper
    from optimlab.engine.trace import TracedScalarError
    from optimlab.rules import Transform, chain
    from optimlab.transforms import Descend
    from optimlab.validation import NON_NEGATIVE

    class BiasCorrected(Transform):
        step_counter = True

        def apply(self, ops, u, ctx):
            return ops.scale(u, float(1 - 0.9 ** ctx.step))  # the mistake: a Python float of the traced step

    class Frozen(optimlab.Optimizer):
        lr: float = Hyper(0.1, NON_NEGATIVE, "learning rate")

        @staticmethod
        def recipe(group):
            return chain(BiasCorrected(), Descend(group["lr"]))

    p = torch.ones(3, requires_grad=True)
    p.grad = torch.ones(3)
    opt = Frozen([p], impl="fused")
    with pytest.raises(TracedScalarError, match="use plain arithmetic"):
        opt.step()
    assert torch.equal(p, torch.ones(3)) and not opt.state[p]


def _watch(opt) -> tuple[int, list[int]]:
    return kernels.STATS["kernels"], [len(k.signatures) for k in kernels._KERNELS.values()]


def test_changing_lr_and_betas_does_not_recompile():
    p = torch.randn(33, requires_grad=True)
    opt = optimlab.Adam([p], impl="fused")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (t + 1))
    for t in range(2):
        opt.zero_grad()
        loss_fn([p]).backward()
        opt.step()
    before = _watch(opt)
    for t in range(10):
        opt.param_groups[0]["betas"] = (0.9 - 0.01 * t, 0.999 - 1e-4 * t)
        opt.zero_grad()
        loss_fn([p]).backward()
        opt.step()
        sched.step()
    assert _watch(opt) == before
    assert all(n == 1 for n in before[1])  # one compiled signature per kernel


def test_first_call_compiles_once_and_reuses():
    p = torch.randn(9, dtype=torch.float64, requires_grad=True)
    opt = optimlab.RMSprop([p], impl="fused", centered=True, momentum=0.3, weight_decay=0.2)
    seen = []
    for _ in range(6):
        opt.zero_grad()
        loss_fn([p]).backward()
        opt.step()
        seen.append(kernels.STATS["kernels"])
    # step 1 (fresh momentum buffer) and step 2 (steady state) may each need a kernel; then none
    assert seen[1] == seen[-1]
    assert len(set(seen[1:])) == 1


_CHILD = r"""
import json, torch, optimlab
from optimlab.engine.backends import numba as kernels
p = torch.randn(50, requires_grad=True)
opt = optimlab.Adamax([p], weight_decay=0.05)
for _ in range(3):
    p.grad = torch.randn(50)
    opt.step()
print(json.dumps(kernels.STATS))
"""


def test_kernels_are_cached_across_processes(tmp_path):
    env = {**os.environ, "OPTIMLAB_CACHE_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    stats = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
        stats.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cold, warm = stats
    assert cold["compiled"] >= 1 and cold["loaded"] == 0
    assert warm["compiled"] == 0 and warm["loaded"] == cold["compiled"]
    assert list((tmp_path / "fused").glob("k_*.py"))


def test_low_precision_conversions_match_torch():
    from numba import njit

    from optimlab.engine.backends.numba.prims import bf16_load, bf16_store, f16_load, f16_store

    @njit
    def roundtrip(bits, x, half):
        loaded = np.empty(bits.size, np.float32)
        stored = np.empty(x.size, np.uint16)
        for i in range(bits.size):
            loaded[i] = f16_load(bits[i]) if half else bf16_load(bits[i])
        for i in range(x.size):
            stored[i] = f16_store(x[i]) if half else bf16_store(x[i])
        return loaded, stored

    bits = np.arange(2**16, dtype=np.uint16)
    rng = np.random.default_rng(0)
    patterns = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    # exact ties, where only rounding to nearest even decides: halfway between two bf16 values (any float), and
    # halfway between two fp16 values (normal fp16 range)
    bf16_ties = (patterns & np.uint32(0xFFFF0000)) | np.uint32(0x8000)
    f16_ties = (rng.standard_normal(20000).astype(np.float32).view(np.uint32) & np.uint32(0xFFFFE000)) | np.uint32(0x1000)
    x = np.concatenate([rng.standard_normal(20000).astype(np.float32) * s for s in (1e-7, 1e-3, 1, 1e3, 7e4)]
                       + [p.view(np.float32) for p in (patterns, bf16_ties, f16_ties)])
    x = x[~np.isnan(x)]
    for half, dtype in ((True, torch.float16), (False, torch.bfloat16)):
        loaded, stored = roundtrip(bits, x, half)
        ref_loaded = torch.from_numpy(bits.view(np.int16).copy()).view(dtype).float().numpy()
        nan = np.isnan(ref_loaded)
        assert np.array_equal(np.isnan(loaded), nan)
        assert np.array_equal(loaded[~nan].view(np.uint32), ref_loaded[~nan].view(np.uint32))
        ref_stored = torch.from_numpy(x).to(dtype).view(torch.int16).numpy().view(np.uint16)
        assert np.array_equal(stored, ref_stored)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scalar_state_helpers_match_torch_bit_for_bit(dtype):
    """``step += 1`` and NAdam's ``mu_product *= mu`` in one compiled call equal torch's own ops exactly."""
    from optimlab.engine.backends.numba import scalar_columns

    fused = scalar_columns()
    g = torch.Generator().manual_seed(0)
    xs = [(torch.rand((), generator=g, dtype=torch.float64) * 3).to(dtype) for _ in range(40)]
    ref = [x.clone() for x in xs]
    for t in range(1, 60):
        mu = 0.9 * (1.0 - 0.5 * 0.96 ** (t * 4e-3))
        new = fused.scale(xs, mu)
        torch._foreach_mul_(ref, mu)
        assert new == [r.item() for r in ref] == fused.values(xs)
    steps = [torch.tensor(float(k), dtype=dtype) for k in range(5)]
    assert fused.advance(steps) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert fused.assign(steps, 0.1) and [s.item() for s in steps] == [torch.tensor(0.1, dtype=dtype).item()] * 5


def test_scalar_state_helpers_refuse_other_tensors():
    from optimlab.engine.backends.numba import scalar_columns

    fused = scalar_columns()
    mixed = [torch.tensor(1.0), torch.tensor(1.0, dtype=torch.float64)]
    assert fused.scale(mixed, 0.5) is None and [x.item() for x in mixed] == [1.0, 1.0]
    assert fused.values([torch.ones(2)]) is None
    assert fused.advance([torch.tensor(1, dtype=torch.int64)]) is None
    assert not fused.assign(mixed, 3.0) and [x.item() for x in mixed] == [1.0, 1.0]
