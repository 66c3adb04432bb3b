"""The Triton (CUDA) kernels without a GPU: they compile for one, run under Triton's interpreter, and the
engine never picks them where they cannot run.

Parity with the reference for every optimizer and option is in ``test_fused_parity.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import optimlab
from optimlab import registry
from optimlab.engine.backends import numba as fused
from optimlab.engine.backends.triton import launcher as triton_kernels
from tests.engine.common import traced

pytest.importorskip("triton", reason="Triton does not install on this platform")


@pytest.fixture
def interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")


def _program(spec, dtype=torch.float32, **hypers):
    """The traced program of ``spec``'s step on one small parameter of ``dtype`` (after one step)."""
    p = torch.randn(10, dtype=dtype, requires_grad=True)
    p.grad = torch.randn_like(p)
    opt = spec.make([p], impl="reference", **hypers)
    opt.step()
    return traced(opt, [p])


def _ops(ptx: str) -> set[str]:
    return set(re.findall(r"\b((?:ld|st)\.global[.\w]*|div\.[\w.]+|sqrt\.[\w.]+)", ptx))


@pytest.mark.parametrize("spec", registry.specs(), ids=lambda s: s.name)
def test_every_kernel_compiles_for_a_gpu_with_vector_accesses_and_exact_division(spec, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    program, storage = _program(spec)
    ops = _ops(triton_kernels.compile_offline(program, storage)["ptx"])
    assert "ld.global.v4.b32" in ops and "st.global.v4.b32" in ops, ops  # 128-bit accesses in full blocks
    assert not any("approx" in op or "full" in op for op in ops), ops  # division and sqrt correctly rounded


@pytest.mark.parametrize("dtype, vector", [(torch.float64, "v2.b64"), (torch.float16, "v4.b32"),
                                           (torch.bfloat16, "v4.b32"), (torch.complex64, "v4.b32")])
def test_kernels_compile_for_every_storage(dtype, vector, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    program, storage = _program(registry.get("adam"), dtype)
    aligned = _ops(triton_kernels.compile_offline(program, storage)["ptx"])
    assert f"ld.global.{vector}" in aligned, aligned
    unaligned = _ops(triton_kernels.compile_offline(program, storage, aligned=False)["ptx"])
    assert not any(".v2." in op or ".v4." in op for op in unaligned), unaligned  # no alignment, no vectors


def test_block_map_covers_every_element_once():
    rows, blocks = triton_kernels.block_map(np.array([0, 1, 1024, 1025, 0], np.int64), 1024)
    assert rows.tolist() == [1, 2, 3, 3] and blocks.tolist() == [0, 0, 0, 1]
    assert rows.dtype == blocks.dtype == np.int32


def test_low_precision_and_misaligned_params_match_the_numba_kernel(interpreter):
    """fp16 and bf16 storage (fp32 math, rounded back), and a parameter at an address that is not a
    multiple of 16 bytes (so the launch takes the unaligned variant), several blocks long."""
    base = torch.randn(3000)
    inits = [base[1:2501].clone(), torch.randn(700).half(), torch.randn(33, 7).bfloat16()]
    out = {}
    for impl in ("triton", "fused"):
        storage = torch.empty(2501)
        ps = [storage[1:].copy_(inits[0]), *(t.clone() for t in inits[1:])]
        assert ps[0].data_ptr() % 16 != 0
        ps = [p.requires_grad_() for p in ps]
        opt = optimlab.Adam(ps, lr=1e-2, impl=impl)
        gen = torch.Generator().manual_seed(1)
        for _ in range(15):
            for p in ps:
                p.grad = torch.randn(p.shape, generator=gen).to(p.dtype)
            opt.step()
        assert {name for used in opt.last_impl for name, _ in used} == {impl}
        out[impl] = [p.detach().float() for p in ps]
    for a, b in zip(out["triton"], out["fused"]):
        # The interpreter evaluates the kernel with the numba kernel's roundings, op for op (see
        # test_fused_parity.py): the same bits, in every dtype.
        assert torch.equal(a, b), (a - b).abs().max()


def test_launch_tables_are_reused_while_addresses_stay(interpreter, monkeypatch):
    monkeypatch.setattr(triton_kernels, "_KERNELS", {})
    p = torch.randn(2048, requires_grad=True)
    opt = optimlab.SGD([p], lr=0.1, momentum=0.9, impl="triton")
    p.grad = torch.ones_like(p)
    for _ in range(3):  # the same gradient tensor, as with zero_grad(set_to_none=False)
        opt.step()
    first, steady = triton_kernels._KERNELS.values()  # no momentum buffer yet, then the steady step
    assert len(first._tables) == 1 and len(steady._tables) == 1  # one table each: uploaded once


def test_auto_never_picks_the_interpreter_on_cpu(interpreter, monkeypatch):
    monkeypatch.setattr(fused, "unavailable_reason", lambda: "numba is not importable (test)")
    p = torch.randn(4, requires_grad=True)
    p.grad = torch.randn(4)
    opt = optimlab.Adam([p])
    opt.step()
    ((name, reason),) = opt.last_impl[0]
    assert name == "foreach" and "not triton: it runs cpu tensors only when forced (impl='triton')" in reason


def test_forcing_triton_on_cpu_without_the_interpreter_says_why(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    p = torch.randn(4, requires_grad=True)
    p.grad = torch.randn(4)
    opt = optimlab.Adam([p], impl="triton")
    with pytest.raises(RuntimeError, match="impl='triton' cannot run .* no Triton kernel for CPU tensors"):
        opt.step()
    assert not opt.state[p]  # nothing half-done


def test_without_triton_cuda_tensors_fall_back_with_the_reason(monkeypatch):
    monkeypatch.setattr(triton_kernels, "_import_reason", lambda: "triton is not importable (test)")
    assert triton_kernels.unavailable_reason(torch.device("cuda")) == "triton is not importable (test)"
    assert triton_kernels.unavailable_reason(torch.device("meta")).startswith("no Triton kernel for device meta")
