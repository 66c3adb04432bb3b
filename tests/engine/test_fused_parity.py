"""The fused kernels equal the reference loop: every optimizer, every option, fp32 and fp64.

Both kernel families: numba's (``impl="fused"``, CPU) and Triton's (``impl="triton"``, CUDA), here run
on CPU tensors by Triton's interpreter (``TRITON_INTERPRET=1``): the same generated kernel a GPU would
compile, evaluated with numpy (about 40 ms a step: fp32 runs the full 100 steps, fp64 30). With
``OPTIMLAB_TEST_DEVICE=cuda`` the Triton cases run compiled on the GPU instead, 100 steps each (the device
check in BENCHMARKS.md).

Parameters include a transposed (non-contiguous) tensor, a strided slice, a complex tensor and a
zero-size tensor last. Errors are measured relative to each tensor's magnitude (max|a-b| / max|b|):
fp32 within 1e-6 after 100 steps, fp64 to round-off.

torch's fp32 ``sqrt`` on CPU (MKL's vsSqrt) is off by one ulp for about a sixth of its inputs, and
RMSprop / AdaDelta amplify such differences over 100 steps; the fp32 comparison therefore gives the
reference loop a correctly rounded fp32 sqrt (computed in fp64), as the kernel has. The fp64 reference
is torch's own.
"""

from __future__ import annotations

import os

import pytest
import torch

from tests.optimizers.cases import reference, variants

from optimlab import registry
from optimlab.rules import LoopOps
from tests.engine.common import param_set, run, scaled_err


def _vid(v) -> str:
    return ",".join(f"{k}={v[k]}" for k in sorted(v)) or "defaults"


def _variants():
    for spec in registry.specs():
        options = list(variants(spec))
        if not any(v.get("maximize") for v in options):
            options.append({"maximize": True})
        for v in options:
            yield pytest.param(spec, v, id=f"{spec.name}[{_vid(v)}]")


VARIANTS = list(_variants())
TOL = {torch.float32: 1e-6, torch.float64: 1e-13}


def _rounded_sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.double()).to(x.dtype) if x.dtype == torch.float32 else torch.sqrt(x)


def _sqrt_(xs):
    for x in xs:
        x.copy_(_rounded_sqrt(x))
    return xs


@pytest.fixture
def rounded_sqrt(monkeypatch):
    """The reference loop with a correctly rounded fp32 sqrt."""
    monkeypatch.setattr(LoopOps, "sqrt", staticmethod(lambda xs: [_rounded_sqrt(x) for x in xs]))
    monkeypatch.setattr(LoopOps, "sqrt_", staticmethod(_sqrt_))


ON_GPU = os.environ.get("OPTIMLAB_TEST_DEVICE") == "cuda"


@pytest.fixture(params=["fused", "triton"])
def kernel_impl(request, monkeypatch):
    """(impl, device): numba on the CPU; Triton interpreted on the CPU, or compiled on the GPU."""
    if request.param == "triton":
        pytest.importorskip("triton", reason="Triton does not install on this platform")
        if ON_GPU:
            return "triton", "cuda"
        monkeypatch.setenv("TRITON_INTERPRET", "1")
    return request.param, "cpu"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_fused_equals_reference(spec, variant, dtype, kernel_impl, rounded_sqrt):
    impl, device = kernel_impl
    init = param_set(dtype)
    steps = 30 if impl == "triton" and device == "cpu" and dtype == torch.float64 else 100
    fused, opt = run(spec, impl, init, steps, device=device, **variant)
    ref, _ = run(spec, "reference", init, steps, device=device, **variant)
    assert {name for used in opt.last_impl for name, _ in used} == {impl}
    err = scaled_err(fused, ref)
    assert err <= TOL[dtype], f"relative error {err:.3e} after {steps} steps"
    assert all(torch.isfinite(p).all() for p in ref)


def test_auto_matches_foreach_with_lr_schedule_and_groups():
    """auto (fused) follows a changing lr and per-group hyperparameters exactly like foreach, in fp64."""
    spec = registry.get("adamw")
    out = {}
    for impl in ("auto", "foreach"):
        from tests.engine.common import leaves

        ps = leaves(param_set(torch.float64))
        opt = spec.make([{"params": ps[:2]}, {"params": ps[2:], "lr": 3e-3, "weight_decay": 0.3}], lr=1e-2, impl=impl)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
        from tests.helpers import loss_fn

        for _ in range(60):
            opt.zero_grad()
            loss_fn(ps).backward()
            opt.step()
            sched.step()
        out[impl] = ps
    assert scaled_err(out["auto"], out["foreach"]) <= 1e-13
