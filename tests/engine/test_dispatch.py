"""impl="auto" picks the fused kernel where it fits and falls back, with the reason, where it does not."""

from __future__ import annotations

import pytest
import torch

import optimlab
from optimlab import registry
from optimlab import engine
from optimlab.engine.backends import kernel, numba
from optimlab.engine.state import init_state
from tests.engine.common import leaves, param_set, run, scaled_err
from tests.optimizers.cases import reference, reference_path, visible_lr
from tests.helpers import loss_fn, make_params, train


def _impls(opt) -> set[tuple[str, str]]:
    return {entry for used in opt.last_impl for entry in used}


JOB = optimlab.Adam.job({"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                         "decoupled_weight_decay": False})


def _bucket(params, grads):
    states = [{} for _ in params]
    chain = JOB.chain
    for p, st in zip(params, states):
        init_state(chain, p, st)
    return engine.Bucket(list(params), list(grads), states, 1.0, (True,) * len(chain), {}, chain)


def _resolve(bucket):
    backend, reason = engine.resolve("auto", bucket, JOB)
    return backend.name, reason


def test_auto_picks_fused_on_cpu_float_tensors():
    _, opt = run(registry.get("adam"), "auto", param_set(), 2)
    assert _impls(opt) == {("fused", "auto: fused fits")}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_auto_picks_fused_for_low_precision(dtype):
    p = torch.randn(10, dtype=dtype, requires_grad=True)
    opt = optimlab.Adam([p])
    p.grad = torch.randn(10, dtype=dtype)
    opt.step()
    assert _impls(opt) == {("fused", "auto: fused fits")}


def test_sparse_gradient_falls_back_with_reason():
    p = torch.randn(4, 3)
    g = torch.sparse_coo_tensor([[0, 2]], torch.ones(2, 3), (4, 3), check_invariants=True)
    name, reason = _resolve(_bucket([p], [g]))
    assert name != "fused" and "not fused: a gradient is sparse" in reason


def test_tensor_subclass_falls_back_with_reason():
    class Tagged(torch.nn.Parameter):
        pass

    p = Tagged(torch.randn(5))
    opt = optimlab.Adam([p])
    p.grad = torch.randn(5)
    opt.step()
    ((name, reason),) = _impls(opt)
    assert name == "foreach" and "not fused: a parameter is a tensor subclass (Tagged)" in reason


def test_non_cpu_device_falls_back_with_reason():
    p = torch.empty(3, device="meta")
    name, reason = _resolve(_bucket([p], [torch.empty(3, device="meta")]))
    assert name not in ("fused", "triton") and "the numba kernels are CPU-only" in reason
    assert "not triton: no Triton kernel for device meta (CUDA only)" in reason


def test_state_of_another_dtype_falls_back_with_reason():
    p = torch.randn(6)
    bucket = _bucket([p], [torch.randn(6)])
    bucket.states[0]["exp_avg"] = bucket.states[0]["exp_avg"].double()
    name, reason = _resolve(bucket)
    assert name != "fused" and "state 'exp_avg' has a dtype other than its parameter's" in reason


def test_missing_numba_falls_back_with_reason(monkeypatch):
    monkeypatch.setattr(numba, "unavailable_reason", lambda: "numba is not importable (test)")
    _, opt = run(registry.get("adam"), "auto", param_set(), 3)
    ((name, reason),) = _impls(opt)
    assert name == "foreach" and "not fused: numba is not importable (test)" in reason


@pytest.mark.parametrize("name", ["adam", "nadam"])
def test_without_numba_every_step_is_torchs(name, monkeypatch):
    """Without numba nothing is compiled: the rule runs on torch's foreach ops and the 0-d state (``step``, NAdam's
    ``mu_product``) moves by torch's own ops, bit for bit as torch.optim (NAdam's for-loop: see test_torch_parity)."""
    monkeypatch.setattr(numba, "unavailable_reason", lambda: "numba is not importable (test)")
    spec = registry.get(name)
    init = make_params()
    _, ours, a = train(lambda p, lr: spec.make(p, lr=lr), init, 20)
    _, _, b = train(lambda p, lr: reference(spec)(p, lr=lr, **reference_path(spec, "foreach")), init, 20)
    assert {name for name, _ in _impls(ours)} == {"foreach"}
    assert all(torch.equal(x, y) for x, y in zip(a[-1], b[-1]))
    assert {st["step"].item() for st in ours.state.values()} == {20.0}


def test_forcing_fused_on_unsupported_tensors_raises_with_reason():
    p = torch.empty(3, device="meta")
    bucket = _bucket([p], [torch.empty(3, device="meta")])
    with pytest.raises(RuntimeError, match="impl='fused' cannot run .* CPU-only"):
        kernel.NUMBA.run(bucket, JOB)


@pytest.mark.parametrize("maximize", [False, True])
def test_grad_is_unchanged_by_step(maximize):
    ps = leaves(param_set())
    opt = optimlab.NAdam(ps, impl="fused", maximize=maximize, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(ps).backward()
        before = [p.grad.clone() for p in ps]
        opt.step()
        assert all(torch.equal(p.grad, b) for p, b in zip(ps, before))


@pytest.mark.parametrize("name", registry.names())
def test_mixed_dtypes_in_one_group(name, rounded_sqrt):
    """fp64, fp32, fp16 and bf16 (and a zero-size tensor last) in one group: one fused bucket per dtype.

    fp16/bf16 parameters and state are equal to the bit: the kernel and the reference loop both widen the
    stored values to fp32, compute op for op with the same roundings (fma where torch's kernels have one;
    the reference gets a correctly rounded sqrt, as the kernel has) and round once, to nearest even, on
    store. Anything else (a product rounded to fp16 on the way, a store that truncates) shows up as a
    changed bit within these 20 steps, long before it could reach a relative tolerance."""
    spec = registry.get(name)
    dtypes = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.float32]
    shapes = [(5, 3), (4,), (6,), (3, 2), (0,)]
    g = torch.Generator().manual_seed(1)
    init = [torch.rand(s, generator=g, dtype=torch.float64).to(d) for s, d in zip(shapes, dtypes)]
    out, states = {}, {}
    for impl in ("fused", "reference"):
        ps = [x.clone().requires_grad_() for x in init]
        opt = spec.make(ps, impl=impl, lr=visible_lr(spec))
        for _ in range(20):
            opt.zero_grad()
            loss_fn([p.float() for p in ps]).backward()
            opt.step()
        out[impl] = ps
        states[impl] = [opt.state[p] for p in ps]
        assert {n for n, _ in _impls(opt)} == {impl}
    assert [p.dtype for p in out["fused"]] == dtypes
    exact = scaled_err(out["fused"][:2], out["reference"][:2])
    assert exact <= 1e-6, exact
    for i in (2, 3):
        a, b, x0 = out["fused"][i].detach(), out["reference"][i].detach(), init[i]
        assert not torch.equal(b, x0), f"{b.dtype}: the parameter never moved"
        assert torch.equal(a, b), f"{b.dtype}: {(a != b).sum().item()} of {b.numel()} values differ"
        for key, value in states["reference"][i].items():
            assert torch.equal(states["fused"][i][key], value), f"{b.dtype} state {key!r}"


@pytest.mark.parametrize("name, hypers", [("adam", {}), ("sgd", {"momentum": 0.9, "dampening": 0.3})])
def test_params_whose_gradients_come_and_go_take_torchs_steps(name, hypers):
    """A tensor that skips steps has a smaller ``step`` (its bias corrections differ) and one whose first gradient
    comes late has new state beside the others' old state (its momentum buffer starts as its update): each goes
    to a bucket of its own, and every tensor takes torch's step."""
    spec = registry.get(name)
    out = {}
    for impl in ("fused", "reference", "torch"):
        ps = leaves(param_set(torch.float64))
        opt = reference(spec)(ps, lr=1e-2, **hypers) if impl == "torch" else spec.make(ps, impl=impl, lr=1e-2, **hypers)
        for t in range(12):
            opt.zero_grad()
            loss_fn(ps).backward()
            if t % 3 == 0:
                ps[0].grad = None
            opt.step()
        out[impl] = ps
        if name == "adam":
            assert [opt.state[p]["step"].item() for p in ps] == [8.0] + [12.0] * 4
    for impl in ("fused", "reference"):
        assert scaled_err(out[impl], out["torch"]) <= 1e-13, impl


def test_step_bumps_autograd_versions_like_an_inplace_op():
    p = torch.randn(3, requires_grad=True)
    opt = optimlab.Adam([p], impl="fused")
    loss = (p * p).sum()
    loss.backward(retain_graph=True)
    version = p._version
    opt.step()
    assert p._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_forced_impl_that_refuses_leaves_state_as_it_was():
    """impl="fused" raising on a tensor subclass must not advance ``step`` or leave half-made state: a retry
    with another impl then takes exactly torch's first step."""
    class Tagged(torch.nn.Parameter):
        pass

    p = Tagged(torch.randn(5, dtype=torch.float64))
    ref = torch.nn.Parameter(p.detach().clone())
    opt = optimlab.Adam([p], lr=0.1, impl="fused")
    p.grad = torch.randn(5, dtype=torch.float64)
    before = p.detach().clone()
    with pytest.raises(RuntimeError, match="impl='fused' cannot run this parameter group.*tensor subclass"):
        opt.step()
    assert torch.equal(p, before) and opt.state[p] == {}
    opt.param_groups[0]["impl"] = "foreach"
    opt.step()
    ref.grad = p.grad.clone()
    torch.optim.Adam([ref], lr=0.1).step()
    assert torch.equal(p.detach(), ref.detach()) and opt.state[p]["step"].item() == 1
