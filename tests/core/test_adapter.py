"""The torch.optim contract: schedulers, hooks, closures, zero_grad, param groups, grads, dtypes, guard."""

from __future__ import annotations

import pytest
import torch

import optimlab
from optimlab import registry
from tests.helpers import loss_fn, make_params, max_rel_err, two_groups
from tests.optimizers.cases import SPEC_IDS, reference

SCHEDULERS = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5),
    "MultiStepLR": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5, 15], 0.3),
    "ExponentialLR": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.97),
    "CosineAnnealingLR": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 20),
    "CosineAnnealingWarmRestarts": lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 8),
    "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)),
    "MultiplicativeLR": lambda o: torch.optim.lr_scheduler.MultiplicativeLR(o, lambda t: 0.95),
    "LinearLR": lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 10),
    "ConstantLR": lambda o: torch.optim.lr_scheduler.ConstantLR(o, 0.5, 10),
    "PolynomialLR": lambda o: torch.optim.lr_scheduler.PolynomialLR(o, 30, 2.0),
    "CyclicLR": lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.001, 0.02, 5, cycle_momentum=False),
    "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.02, total_steps=40),
    "SequentialLR": lambda o: torch.optim.lr_scheduler.SequentialLR(
        o, [torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 5), torch.optim.lr_scheduler.ExponentialLR(o, 0.9)], [5]),
    "ReduceLROnPlateau": lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
}


def _run(opt_cls, sched_name, kwargs, steps=30):
    ps = [x.clone().requires_grad_() for x in make_params()]
    opt = opt_cls(two_groups(ps, 0.01), lr=0.01, **kwargs)
    sched = SCHEDULERS[sched_name](opt)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(ps)
        loss.backward()
        opt.step()
        sched.step(loss.item()) if sched_name == "ReduceLROnPlateau" else sched.step()
    return ps


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name,kwargs", [("adam", {}), ("sgd", {"momentum": 0.9}), ("rmsprop", {"momentum": 0.5})])
def test_every_lr_scheduler_drives_optimlab_as_it_drives_torch(sched, name, kwargs):
    spec = registry.get(name)
    ours = _run(spec.cls, sched, kwargs)
    theirs = _run(reference(spec), sched, kwargs)
    assert max_rel_err(ours, theirs) <= 1e-10


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_closure_is_evaluated_with_grad_and_its_loss_returned(spec):
    ps = [torch.randn(3, requires_grad=True)]
    opt = spec.make(ps, lr=1e-3)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(ps)
        loss.backward()
        calls.append(loss.item())
        return loss

    loss = opt.step(closure)
    assert calls and loss.item() == calls[0]


def test_step_hooks_and_state_dict_hooks_run():
    ps = [torch.randn(3, requires_grad=True)]
    opt = optimlab.Adam(ps, lr=0.1)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    opt.register_state_dict_post_hook(lambda o, sd: sd.setdefault("extra", 1) and sd)
    loss_fn(ps).backward()
    opt.step()
    assert seen == ["pre", "post"]
    assert opt.state_dict()["extra"] == 1
    h1.remove()
    h2.remove()
    opt.step()
    assert seen == ["pre", "post"]


def test_zero_grad_sets_none_by_default():
    ps = [torch.randn(3, requires_grad=True)]
    opt = optimlab.SGD(ps, lr=0.1)
    loss_fn(ps).backward()
    opt.zero_grad()
    assert ps[0].grad is None


def test_add_param_group_inherits_defaults_and_is_stepped():
    a, b = torch.randn(3, requires_grad=True), torch.randn(2, requires_grad=True)
    opt = optimlab.Adam([a], lr=0.1, betas=(0.8, 0.9))
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["betas"] == (0.8, 0.9) and opt.param_groups[1]["lr"] == 0.5
    before = b.detach().clone()
    loss_fn([a, b]).backward()
    opt.step()
    assert not torch.equal(before, b)


def test_named_parameters_name_the_culprit():
    model = torch.nn.Linear(2, 1)
    opt = optimlab.Adam(model.named_parameters(), nonfinite="raise")
    model.weight.grad = torch.tensor([[1.0, float("nan")]])
    model.bias.grad = torch.zeros(1)
    with pytest.raises(optimlab.NonFiniteGradientError, match="weight"):
        opt.step()


@pytest.mark.parametrize("spec", SPEC_IDS)
@pytest.mark.parametrize("impl", ["reference", "foreach"])
def test_grad_untouched_none_grad_untouched_zero_size_and_non_contiguous(spec, impl):
    nc = torch.randn(4, 6, dtype=torch.float64).t().requires_grad_()  # a non-contiguous (transposed) leaf
    assert not nc.is_contiguous()
    frozen = torch.randn(3, dtype=torch.float64, requires_grad=True)
    empty = torch.zeros(0, 5, dtype=torch.float64, requires_grad=True)
    opt = spec.make([nc, frozen, empty], lr=0.01, impl=impl)
    ref_nc = nc.detach().contiguous().clone().requires_grad_()
    ref = spec.make([ref_nc], lr=0.01, impl="reference")
    for _ in range(12):  # Rprop's first sign changes (where it zeroes its copy of the gradient) come at step 11
        for o, p in ((opt, nc), (ref, ref_nc)):
            o.zero_grad()
            loss_fn([p]).backward()
        empty.grad = torch.zeros_like(empty)
        grads = [nc.grad.clone(), empty.grad.clone()]
        frozen_before = frozen.detach().clone()
        opt.step()
        ref.step()
        assert torch.equal(nc.grad, grads[0]) and torch.equal(empty.grad, grads[1])
        assert torch.equal(frozen, frozen_before)
    assert frozen not in opt.state
    assert (empty in opt.state) == (nc in opt.state) == (len(ref.state) > 0)  # plain SGD keeps no state, as torch
    if "step" in opt.state.get(empty, {}):
        assert opt.state[empty]["step"].item() == 12
    assert torch.equal(nc.detach(), ref_nc.detach())
    for key, value in opt.state[nc].items():
        if value.dim():
            assert value.stride() == nc.stride(), key


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_maximize_is_descent_on_the_negated_loss(spec):
    init = make_params()
    a = [x.clone().requires_grad_() for x in init]
    b = [x.clone().requires_grad_() for x in init]
    oa, ob = spec.make(a, lr=0.01, maximize=True), spec.make(b, lr=0.01)
    for _ in range(20):
        oa.zero_grad()
        ob.zero_grad()
        (-loss_fn(a)).backward()
        loss_fn(b).backward()
        g = [p.grad.clone() for p in a]
        oa.step()
        ob.step()
        assert all(torch.equal(x, p.grad) for x, p in zip(g, a))  # maximize never writes p.grad
    assert max_rel_err(a, [x.neg().neg() for x in b]) <= 1e-12


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_fp32_step_is_the_exact_step_to_fp32_rounding(spec):
    """The fp32 run the low-precision test below rounds from is itself right: one step from an fp32 start
    lands within fp32 rounding of the same step taken in float64. Bound: two roundings at the parameter's
    magnitude (the final add, and decoupled weight decay's product), half an ulp each, plus at most eight in
    the update u (about six ops, none cancelling on a first step): eps32 * (|p| + 4 |u|)."""
    x = torch.randn(64).float()
    g = torch.randn(64).float()
    p32, p64 = x.clone().requires_grad_(), x.double().requires_grad_()
    o32, o64 = spec.make([p32], lr=0.01), spec.make([p64], lr=0.01)
    p32.grad, p64.grad = g.clone(), g.double()
    o32.step()
    o64.step()
    exact = p64.detach()
    u = exact - x.double()
    assert (u.abs() > 1e-6).all()  # every element took a real step
    bound = torch.finfo(torch.float32).eps * (exact.abs() + 4 * u.abs())
    err = (p32.detach().double() - exact).abs()
    assert (err <= bound).all(), f"{(err / bound).max().item():.2f} times the bound"


@pytest.mark.parametrize("impl", ["reference", "foreach", "auto"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("spec", SPEC_IDS)
def test_low_precision_params_follow_the_fp32_run(spec, dtype, impl):
    """Low precision params do their math in fp32, whatever runs the rule: one step from the same
    fp32-representable start lands on the fp32 result rounded to the param dtype (state is kept in the param's
    dtype, as torch does). The fp32 run is checked against float64 above."""
    x32 = torch.randn(64).to(dtype).float().detach()
    g = torch.randn(64).to(dtype).float()
    p_lo = x32.to(dtype, copy=True).requires_grad_()
    p32 = x32.clone().requires_grad_()
    o_lo, o32 = spec.make([p_lo], lr=0.01, impl=impl), spec.make([p32], lr=0.01, impl=impl)
    p_lo.grad, p32.grad = g.to(dtype), g.clone()
    o_lo.step()
    o32.step()
    assert p_lo.dtype == dtype
    assert torch.equal(p_lo.detach(), p32.detach().to(dtype))
    for key, value in o_lo.state[p_lo].items():
        if key != "step" and value.dim():
            assert value.dtype == dtype


def test_mixed_dtypes_in_one_group():
    ps = [torch.randn(4, dtype=dt, requires_grad=True) for dt in (torch.float64, torch.float32, torch.float16)]
    opt = optimlab.Adam(ps, lr=0.1)
    loss_fn([p.double() for p in ps]).backward()
    opt.step()
    assert [p.dtype for p in ps] == [torch.float64, torch.float32, torch.float16]
    assert all(opt.state[p]["step"].item() == 1 for p in ps)


class TestNonFiniteGuard:
    def _setup(self, mode):
        a = torch.randn(3, requires_grad=True)
        b = torch.randn(2, requires_grad=True)
        opt = optimlab.Adam([a, b], lr=0.1, nonfinite=mode)
        loss_fn([a, b]).backward()
        opt.step()  # one good step so there is state to protect
        a.grad = torch.tensor([1.0, float("inf"), 0.0])
        b.grad = torch.ones(2)
        snapshot = ([a.detach().clone(), b.detach().clone()],
                    {id(p): {k: v.clone() for k, v in opt.state[p].items()} for p in (a, b)})
        return a, b, opt, snapshot

    def _unchanged(self, a, b, opt, snapshot):
        params, states = snapshot
        assert torch.equal(a, params[0]) and torch.equal(b, params[1])
        for p in (a, b):
            for k, v in opt.state[p].items():
                assert torch.equal(v, states[id(p)][k]), k

    def test_skip_leaves_params_and_state_untouched_and_counts(self):
        a, b, opt, snap = self._setup("skip")
        opt.step()
        self._unchanged(a, b, opt, snap)
        assert opt.skipped_steps == 1
        a.grad = torch.ones(3)
        opt.step()
        assert opt.state[a]["step"].item() == 2 and opt.skipped_steps == 1
        assert opt.state_dict()["optimlab"]["skipped_steps"] == 1

    def test_raise_names_the_parameter_and_modifies_nothing(self):
        a, b, opt, snap = self._setup("raise")
        with pytest.raises(optimlab.NonFiniteGradientError, match=r"param_groups\[0\]\['params'\]\[0\].*shape \(3,\)"):
            opt.step()
        self._unchanged(a, b, opt, snap)

    def test_raise_names_the_parameter_whose_gradient_is_not_finite(self):
        a, b, opt, snap = self._setup("raise")
        a.grad, b.grad = torch.ones(3), torch.tensor([float("nan"), 0.0])
        with pytest.raises(optimlab.NonFiniteGradientError, match=r"param_groups\[0\]\['params'\]\[1\] \(shape \(2,\)"):
            opt.step()
        self._unchanged(a, b, opt, snap)

    def test_default_behaves_like_torch(self):
        a, b, opt, _ = self._setup(None)
        opt.step()
        assert not torch.isfinite(a).all()
        assert opt.skipped_steps == 0
