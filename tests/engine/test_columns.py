"""The fused engine checks parameters and state once per set of tensor objects, and again whenever one
of them is replaced or moves: a cached check must never hide a change."""

from __future__ import annotations

import gc

import pytest
import torch

import optimlab
from optimlab.engine.backends import columns


def _stepped_adam(n=6, impl="auto"):
    p = torch.randn(n, requires_grad=True)
    p.grad = torch.randn(n)
    opt = optimlab.Adam([p], impl=impl)
    opt.step()
    opt.step()
    return p, opt


def test_check_runs_once_per_column_while_tensors_stay():
    ts = [torch.randn(3), torch.randn(4)]
    calls = []

    def check(xs):
        calls.append(len(xs))
        return "ok"

    first = columns.addresses("test-slot", ts, None, check)
    again = columns.addresses("test-slot", list(ts), None, check)
    assert calls == [2] and again[1] == "ok"
    assert list(first[0]) == list(again[0]) == [t.data_ptr() for t in ts]
    columns.addresses("test-slot", list(ts), "other context", check)
    assert calls == [2, 2]


def test_check_runs_again_when_a_tensor_is_replaced_or_moves():
    ts = [torch.randn(3), torch.randn(4)]
    calls = []
    check = calls.append
    columns.addresses("test-move", ts, None, check)
    ts[1] = torch.randn(4)  # another object
    columns.addresses("test-move", ts, None, check)
    ts[1].data = torch.randn(4)  # same object, new memory
    columns.addresses("test-move", ts, None, check)
    assert len(calls) == 3


def test_failed_check_is_not_remembered():
    ts = [torch.randn(3)]

    def check(xs):
        raise ValueError("unfit")

    for _ in range(2):
        with pytest.raises(ValueError, match="unfit"):
            columns.addresses("test-fail", ts, None, check)


def test_entry_is_dropped_when_its_tensors_are_freed():
    ts = [torch.randn(5)]
    columns.addresses("test-free", ts, None, lambda xs: None)
    key = ("test-free", id(ts[0]), 1)
    assert key in columns._CACHE
    del ts
    gc.collect()
    assert key not in columns._CACHE


def test_replaced_state_of_another_dtype_is_caught_after_cached_steps():
    p, opt = _stepped_adam(impl="fused")
    opt.state[p]["exp_avg"] = opt.state[p]["exp_avg"].to(torch.float16)
    with pytest.raises(RuntimeError, match="state .exp_avg. has a dtype other than its parameter's"):
        opt.step()


def test_state_replaced_by_another_view_of_its_memory_is_checked_again():
    """A new tensor object at the same address (the memory seen as another dtype) is not the tensor that was
    checked: neither the steady-state plan nor the address cache may take it for that one."""
    ps = [torch.randn(6, requires_grad=True) for _ in range(2)]
    opt = optimlab.Adam(ps, impl="fused")
    for _ in range(3):
        for p in ps:
            p.grad = torch.randn(6)
        opt.step()
    state = opt.state[ps[1]]
    state["exp_avg"] = state["exp_avg"].view(torch.int32)  # not the column's first tensor: the cache's key stays
    with pytest.raises(RuntimeError, match="state .exp_avg. has a dtype other than its parameter's"):
        opt.step()


def test_resized_parameter_is_caught_after_cached_steps():
    """``p.data = ...`` with other elements: the state no longer matches, whatever was checked before. (Fewer
    elements than the state holds: a kernel that missed the check would write inside the state, and this test
    fail, rather than write past its end.)"""
    p, opt = _stepped_adam(impl="fused")
    p.data = torch.randn(4)
    p.grad = torch.randn(4)
    with pytest.raises(RuntimeError, match="state .exp_avg. has a shape other than its parameter's"):
        opt.step()


def test_state_loaded_from_a_checkpoint_is_used_after_cached_steps():
    """load_state_dict replaces the state tensors: the next steps must read the loaded values."""
    p, opt = _stepped_adam()
    saved = opt.state_dict()
    ref_p = p.detach().clone()
    for _ in range(3):
        opt.step()
    opt.load_state_dict(saved)
    with torch.no_grad():
        p.copy_(ref_p)
    opt.step()
    q = ref_p.clone().requires_grad_()
    q.grad = p.grad.clone()
    ref = optimlab.Adam([q], impl="reference")
    ref.load_state_dict(saved)
    ref.step()
    assert torch.allclose(p, q, rtol=1e-6, atol=0)
    assert torch.allclose(opt.state[p]["exp_avg_sq"], ref.state[q]["exp_avg_sq"], rtol=1e-6, atol=0)


def _layouts():
    """A transposed parameter (its grad and state follow its layout), a transposed one with a
    contiguous grad, a strided slice, and a plain one."""
    g = torch.Generator().manual_seed(3)
    base = [torch.randn(6, 4, generator=g) for _ in range(4)]
    ps = [base[0].t().contiguous().t(), base[1].t().contiguous().t(), torch.randn(4, 8, generator=g)[:, ::2],
          base[3]]
    ps = [p.clone(memory_format=torch.preserve_format).requires_grad_() if i != 2 else p.detach().requires_grad_()
          for i, p in enumerate(ps)]
    grads = [torch.randn(p.shape, generator=g) for p in ps]
    grads[0] = grads[0].t().contiguous().t()
    return ps, grads


def test_dense_layouts_run_in_place_and_odd_rows_are_staged_alone():
    from tests.engine.common import prepared

    ps, grads = _layouts()
    opt = optimlab.Adam(ps, impl="fused")
    for p, g in zip(ps, grads):
        p.grad = g
    opt.step()
    _, _, table = prepared(opt, ps)
    # row 0: transposed with everything in its layout -> in place; row 1: its grad is contiguous -> staged
    # (the grad column only); row 2: a slice -> staged (the param only; grad and state are contiguous)
    assert table.staged == {1: [1], 2: [0]}
    assert list(table.sizes) == [24, 0, 0, 24] and table.row_sizes == {1: 24, 2: 16}


def test_mixed_layouts_match_the_reference():
    out = {}
    for impl in ("fused", "reference"):
        ps, grads = _layouts()
        opt = optimlab.Adam(ps, impl=impl, lr=1e-2)
        for _ in range(5):
            for p, g in zip(ps, grads):
                p.grad = g
            opt.step()
        out[impl] = [p.detach().clone() for p in ps]
    for a, b in zip(out["fused"], out["reference"]):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)
