"""The fused kernels equal the reference loop: every optimizer, every option, fp32 and fp64.

Both kernel families: numba's (``impl="fused"``, CPU) and Triton's (``impl="triton"``, CUDA), here run
on CPU tensors by Triton's interpreter (``TRITON_INTERPRET=1``): the same generated kernel a GPU would
compile, evaluated with numpy (about 40 ms a step: fp32 runs the full 100 steps, fp64 30). With
``OPTIMLAB_TEST_DEVICE=cuda`` the Triton cases run compiled on the GPU instead, 100 steps each (the device
check in BENCHMARKS.md).

Parameters include a transposed (non-contiguous) tensor, a strided slice, a complex tensor and a
zero-size tensor last. Errors are measured relative to each tensor's magnitude (max|a-b| / max|b|):
fp32 within 1e-6 after 100 steps, fp64 to round-off. All of them are smaller than one Triton block, so
they run only the kernel's masked copy of the update; the last test runs its unmasked copy too (tensors
of whole blocks, in fp32, fp64, fp16 and bf16).

torch's fp32 ``sqrt`` on CPU (MKL's vsSqrt) is off by one ulp for about a sixth of its inputs, and
RMSprop / AdaDelta amplify such differences over 100 steps; the fp32 comparison therefore gives the
reference loop a correctly rounded fp32 sqrt (computed in fp64), as the kernel has (the ``rounded_sqrt``
fixture of conftest.py). The fp64 reference is torch's own.
"""

from __future__ import annotations

import os

import pytest
import torch

from tests.optimizers.cases import variants, visible_lr

from optimlab import registry
from optimlab.engine.backends import numba as fused
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
    init = param_set(dtype, spec=spec)
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


# -- Triton: whole blocks and masked tails --------------------------------------------------------------
#
# The generated Triton kernel has two copies of the update: one for a block that lies wholly inside its
# tensor (unmasked loads and stores) and one for the tensor's last, partial block (masked). Every tensor
# of param_set is smaller than one block, so the parity test above only runs the masked copy. Here every
# dtype has a tensor of exactly two blocks (the unmasked copy only) and one of a block and a tail of 276
# elements (both copies), and each buffer is judged on its elements of each copy separately.

def _triton_block():
    from optimlab.engine.backends.triton import launcher as triton_kernels

    return triton_kernels.BLOCK


BLOCK_STEPS = 3  # the first step (state created) and steady ones: each kernel the optimizer has; an odd count, so a
# sign method's ±lr steps cannot cancel to no movement
BLOCK_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
BLOCK_TOL = {torch.float32: 1e-6, torch.float64: 1e-13,
             # Both compute in fp32 from the same stored values and round once on store: an fp32 difference
             # (e.g. a GPU's contraction of a*b+c) can move a stored value by at most one ulp of the storage
             # dtype per step, and one ulp is at most eps * max|value|.
             torch.float16: BLOCK_STEPS * torch.finfo(torch.float16).eps,
             torch.bfloat16: BLOCK_STEPS * torch.finfo(torch.bfloat16).eps}


@pytest.fixture
def triton_device(monkeypatch):
    """Triton interpreted on the CPU, or compiled on the GPU with ``OPTIMLAB_TEST_DEVICE=cuda``."""
    pytest.importorskip("triton", reason="Triton does not install on this platform")
    if ON_GPU:
        return "cuda"
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    return "cpu"


def _block_init() -> list[torch.Tensor]:
    """Per dtype: two whole blocks, and one whole block plus a tail. Values of magnitude 0.1, so that a
    step of about lr moves bf16 and fp16 values by whole ulps."""
    block = _triton_block()
    g = torch.Generator().manual_seed(5)
    return [(0.1 * torch.randn(shape, generator=g, dtype=torch.float64)).to(dtype)
            for dtype in BLOCK_DTYPES for shape in ((2, block), (block + 276,))]


def _run_blocks(spec, impl, variant, device):
    """BLOCK_STEPS steps from _block_init() with the same seeded gradients (so the runs differ only by the
    kernels); returns the parameters and, per parameter, its state buffers by name."""
    ps = [x.to(device).requires_grad_() for x in _block_init()]
    opt = spec.make(ps, impl=impl, **{"lr": visible_lr(spec), **variant})
    gen = torch.Generator().manual_seed(7)
    for _ in range(BLOCK_STEPS):
        for p in ps:
            p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64).to(device=device, dtype=p.dtype)
        opt.step()
    assert {name for used in opt.last_impl for name, _ in used} == {impl}
    buffers = [{"param": p.detach(), **{k: v for k, v in opt.state[p].items() if v.dim()}} for p in ps]
    return ps, buffers


def _by_branch(x: torch.Tensor):
    """(branch, elements) for the elements of ``x`` each copy of the kernel handles."""
    flat, block = x.reshape(-1), _triton_block()
    whole = flat.numel() // block * block
    yield "whole blocks", flat[:whole]
    if whole < flat.numel():
        yield "masked tail", flat[whole:]


@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_triton_whole_blocks_and_masked_tails_equal_the_reference(spec, variant, triton_device, rounded_sqrt):
    device = triton_device
    init = _block_init()
    ps, tri = _run_blocks(spec, "triton", variant, device)
    _, ref = _run_blocks(spec, "reference", variant, device)
    failures = []
    for x0, p, a, b in zip(init, ps, tri, ref):
        assert a.keys() == b.keys()
        moved = (p.detach().cpu() != x0).float().mean().item()
        assert moved > 0.5, f"{p.dtype} {tuple(p.shape)}: only {moved:.0%} of the values moved; the test is blind"
        for name in a:
            scale = max(b[name].double().abs().max().item(), 1e-30)
            for (branch, xa), (_, xb) in zip(_by_branch(a[name]), _by_branch(b[name])):
                err = (xa.double() - xb.double()).abs().max().item() / scale
                if not err <= BLOCK_TOL[p.dtype]:
                    failures.append(f"{p.dtype} {tuple(p.shape)} {name!r}, {branch}: relative error {err:.2e}")
    assert not failures, "\n".join(failures)
    if device == "cpu" and fused.available():
        # Under the interpreter the kernel's arithmetic is the numba kernel's, op for op (fma where the
        # formulas have one, correctly rounded division and sqrt, round to nearest even on store): the same
        # program gives the same bits. This catches what the tolerance cannot, e.g. a lost fma in one copy.
        _, numba = _run_blocks(spec, "fused", variant, device)
        for p, a, b in zip(ps, tri, numba):
            for name in a:
                for (branch, xa), (_, xb) in zip(_by_branch(a[name]), _by_branch(b[name])):
                    if not torch.equal(xa, xb):
                        failures.append(f"{p.dtype} {tuple(p.shape)} {name!r}, {branch}: {(xa != xb).sum().item()} "
                                        f"of {xa.numel()} values differ from the numba kernel's")
        assert not failures, "\n".join(failures)
