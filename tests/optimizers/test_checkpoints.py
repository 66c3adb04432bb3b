"""Checkpoints move between optimlab and torch.optim, and save/load/continue equals an unbroken run."""

from __future__ import annotations

import copy
import io
from functools import partial

import pytest
import torch

from tests.helpers import assert_same_state, loss_fn, make_params, max_rel_err, two_groups
from tests.optimizers.cases import REFERENCE_SPEC_IDS, SPEC_IDS, SPECS, VARIANTS, reference, reference_path, variants

K, STEPS = 20, 45


def _steps(ps, opt, n, maximize=False):
    for _ in range(n):
        opt.zero_grad()
        (-loss_fn(ps) if maximize else loss_fn(ps)).backward()
        opt.step()


def _roundtrip(sd):
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _resume(spec, variant, first, second):
    """Train K steps with ``first``, checkpoint, continue with a fresh ``second``; also run ``second`` straight."""
    mx = variant.get("maximize", False)
    init = make_params()
    a = [x.clone().requires_grad_() for x in init]
    oa = first(two_groups(a, 0.01), lr=0.01, **variant)
    _steps(a, oa, K, mx)
    params_ckpt = [p.detach().clone() for p in a]
    sd = _roundtrip(oa.state_dict())
    b = [x.clone().requires_grad_() for x in params_ckpt]
    ob = second(two_groups(b, 0.01), lr=0.01, **variant)
    ob.load_state_dict(sd)
    _steps(b, ob, STEPS - K, mx)
    c = [x.clone().requires_grad_() for x in init]
    oc = second(two_groups(c, 0.01), lr=0.01, **variant)
    _steps(c, oc, STEPS, mx)
    return b, c


@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_torch_checkpoint_loads_into_optimlab(spec, variant):
    resumed, straight = _resume(spec, variant, reference(spec), reference(spec))
    ours, _ = _resume(spec, variant, reference(spec), spec.make)
    assert max_rel_err(ours, resumed) <= 1e-10
    assert max_rel_err(ours, straight) <= 1e-10


@pytest.mark.parametrize("impl", ["reference", "auto"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_a_torch_checkpoint_continues_bit_for_bit_on_the_reference_path(spec, variant, dtype, impl):
    """Loaded state moves as torch moves it, bit for bit, parameters and state: including state that torch's
    load casts to the parameters' dtype (ASGD's ``eta`` becomes float64 with float64 parameters, and torch then
    sets it from a float32 number each step). With ``impl="auto"`` (the generated kernel and its steady-state
    plan) the 0-d state (``step``, ``mu_product``, ``eta``, ``mu``) is still torch's to the bit; the tensors are
    within round-off (see test_torch_parity)."""
    mx = variant.get("maximize", False)
    ref = partial(reference(spec), **reference_path(spec, impl))
    a = [x.clone().requires_grad_() for x in make_params(dtype=dtype)]
    oa = ref(two_groups(a, 0.01), lr=0.01, **variant)
    _steps(a, oa, K, mx)
    sd = _roundtrip(oa.state_dict())
    runs = []
    for make in (partial(spec.make, impl=impl), ref):
        b = [p.detach().clone().requires_grad_() for p in a]
        ob = make(two_groups(b, 0.01), lr=0.01, **variant)
        ob.load_state_dict(copy.deepcopy(sd))
        _steps(b, ob, STEPS - K, mx)
        runs.append((b, ob))
    (ours, ours_opt), (theirs, their_opt) = runs
    if impl == "reference":
        assert all(torch.equal(x, y) for x, y in zip(ours, theirs))
        assert_same_state(ours_opt, their_opt)
        return
    assert max_rel_err(ours, theirs) <= (1e-10 if dtype == torch.float64 else 1e-4)
    for p, q in zip(ours, theirs):
        for key, value in their_opt.state[q].items():
            if value.dim() == 0:
                assert torch.equal(ours_opt.state[p][key], value), key


@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_optimlab_checkpoint_loads_into_torch(spec, variant):
    theirs, straight = _resume(spec, variant, spec.make, reference(spec))
    assert max_rel_err(theirs, straight) <= 1e-10


@pytest.mark.parametrize("spec", SPEC_IDS)
@pytest.mark.parametrize("impl", ["reference", "foreach", "fused", "auto"])
def test_save_load_continue_is_identical(spec, impl):
    """Bit for bit, with each implementation; "auto" is the fused kernel where numba is installed, at every
    step (checked: a fallback after loading could otherwise hide where foreach happens to agree)."""
    from optimlab.engine.backends import numba as fused

    if impl == "fused" and not fused.available():
        pytest.skip(fused.unavailable_reason())
    used = set()

    def make(*args, **kwargs):
        opt = spec.make(*args, **kwargs)
        opt.register_step_post_hook(lambda o, *_: used.update(name for g in o.last_impl for name, _ in g))
        return opt

    resumed, straight = _resume(spec, {"impl": impl}, make, make)
    for x, y in zip(resumed, straight):
        assert torch.equal(x, y)
    assert used == {{"auto": "fused" if fused.available() else "foreach"}.get(impl, impl)}


NO_TORCH_COUNTERPART: set[str] = set()
"""Registered optimizers without a torch.optim counterpart. Every torch comparison here and in
test_torch_parity.py draws from the optimizers that have one, so an optimizer missing from them is
tested against torch nowhere: adding one means adding its name here, and tests of its own."""


def test_every_optimizer_without_a_torch_counterpart_is_declared():
    assert {s.name for s in SPECS if reference(s) is None} == NO_TORCH_COUNTERPART


@pytest.mark.parametrize("spec", REFERENCE_SPEC_IDS)
def test_state_keys_are_torchs(spec):
    """After a step, optimlab's per-parameter state has exactly the keys torch.optim creates."""
    for variant in variants(spec):
        ps_a, ps_b = [torch.randn(3, requires_grad=True)], [torch.randn(3, requires_grad=True)]
        oa, ob = spec.make(ps_a, **variant), reference(spec)(ps_b, **variant)
        for ps, o in ((ps_a, oa), (ps_b, ob)):
            loss_fn(ps).backward()
            o.step()
        assert (ps_a[0] in oa.state) == (ps_b[0] in ob.state), variant  # a rule without state keeps none
        ours, theirs = set(oa.state[ps_a[0]]), set(ob.state[ps_b[0]])
        # torch's SGD keeps no step count; optimlab counts steps for every optimizer.
        assert theirs <= ours and ours - theirs <= {"step"}, (variant, ours, theirs)


def test_deepcopy_and_pickle_roundtrip():
    import optimlab

    ps = [torch.randn(4, requires_grad=True)]
    opt = optimlab.Adam(ps, lr=0.1, nonfinite="skip")
    loss_fn(ps).backward()
    opt.step()
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["nonfinite"] == "skip"
    assert torch.equal(clone.state[clone.param_groups[0]["params"][0]]["exp_avg"], opt.state[ps[0]]["exp_avg"])
