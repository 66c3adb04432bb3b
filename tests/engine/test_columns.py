"""The fused engine checks parameters and state once per set of tensor objects, and again whenever one
of them is replaced or moves: a cached check must never hide a change."""

from __future__ import annotations

import gc

import pytest
import torch

import optimlab
from optimlab.core.fused import columns


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
    with pytest.raises(ValueError, match="state 'exp_avg' has a dtype other than its parameter's"):
        opt.step()


def test_resized_parameter_is_caught_after_cached_steps():
    """``p.data = ...`` with more elements: the state no longer matches, whatever was checked before."""
    p, opt = _stepped_adam(impl="fused")
    p.data = torch.randn(12)
    p.grad = torch.randn(12)
    with pytest.raises(ValueError, match="state 'exp_avg' has a shape other than its parameter's"):
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
