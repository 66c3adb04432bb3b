"""Parity with torch.optim: every optimizer, every option, two param groups, an LR scheduler, 150 steps.

* ``impl="reference"`` and ``"foreach"`` equal torch.optim's for-loop (``foreach=False``) and foreach paths
  bit for bit, in float32 and float64: optimlab's rules use torch's arithmetic, operation by operation.
* the generated kernels (``"fused"``, and ``"auto"`` which picks them) may differ at round-off, as torch's own
  fused path does: float64 runs stay within 1e-10 relative over 150 steps, and every float32 step, started
  from torch's own parameters and state, lands within a few ulps of torch's (torch's fp32 ``sqrt`` is not
  always correctly rounded; the kernels' is).
"""

from __future__ import annotations

import pytest
import torch

from tests.helpers import assert_same_state, make_params, max_rel_err, train
from tests.catalogue import CATALOGUE
from tests.optimizers.cases import REFERENCE_SPECS, TORCH_SPECS, VARIANTS, reference, reference_path, variants

STEPS = 150
TOL = 1e-10


def _step_lr(opt):
    return torch.optim.lr_scheduler.StepLR(opt, step_size=40, gamma=0.5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("impl", ["reference", "foreach"])
@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_bitwise_equal_to_torch_every_step(spec, variant, impl, dtype):
    init = make_params(dtype=dtype)
    mx = variant.get("maximize", False)
    _, ours_opt, ours = train(lambda p, lr: spec.make(p, lr=lr, impl=impl, **variant), init, STEPS,
                              scheduler=_step_lr, maximize=mx)
    _, ref_opt, ref = train(lambda p, lr: reference(spec)(p, lr=lr, **reference_path(spec, impl), **variant), init,
                            STEPS, scheduler=_step_lr, maximize=mx)
    for t, (a, b) in enumerate(zip(ours, ref)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert torch.equal(x, y), f"step {t + 1}, param {i}: max difference {(x - y).abs().max().item():.3e}"
    assert_same_state(ours_opt, ref_opt)  # state the parameters do not show yet (ASGD's average ax)
    assert max(p.abs().max().item() for p in ref[-1]) < 1e6  # the run stayed finite and meaningful


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TORCH_SPECS])
def test_torch_own_paths_differ_only_where_the_catalogue_says(spec):
    """torch's foreach and for-loop paths agree bit for bit except where the catalogue marks ``paths_differ``
    (NAdam's foreach path divides sqrt(v) by sqrt(1 - β2^t), its for-loop takes sqrt(v / (1 - β2^t))): there
    optimlab's rule, written once in the for-loop's order, equals the for-loop on both its paths."""
    init = make_params(dtype=torch.float32)
    runs = [train(lambda p, lr: reference(spec)(p, lr=lr, foreach=f), init, 30)[0] for f in (False, True)]
    same = all(torch.equal(x, y) for x, y in zip(*runs))
    assert same == (not CATALOGUE[spec.name].paths_differ)


@pytest.mark.parametrize("impl", ["fused", "auto"])
@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_matches_torch_every_step(spec, variant, impl):
    init = make_params()
    mx = variant.get("maximize", False)
    _, _, ours = train(lambda p, lr: spec.make(p, lr=lr, impl=impl, **variant), init, STEPS, scheduler=_step_lr,
                       maximize=mx)
    _, _, ref = train(lambda p, lr: reference(spec)(p, lr=lr, **variant), init, STEPS, scheduler=_step_lr,
                      maximize=mx)
    for t, (a, b) in enumerate(zip(ours, ref)):
        err = max_rel_err(a, b)
        assert err <= TOL, f"step {t + 1}: relative error {err:.3e}"
    assert max(p.abs().max().item() for p in ref[-1]) < 1e6  # the run stayed finite and meaningful


@pytest.mark.parametrize("impl", ["reference", "foreach", "auto"])
@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in REFERENCE_SPECS if s.capabilities.complex])
def test_complex_params_match_torch(spec, impl):
    init = make_params(complex_last=True)
    variant = {"maximize": True}
    _, _, ours = train(lambda p, lr: spec.make(p, lr=lr, impl=impl, **variant), init, 60, maximize=True)
    _, _, ref = train(lambda p, lr: reference(spec)(p, lr=lr, **variant), init, 60, maximize=True)
    assert ours[-1][-1].is_complex()
    assert max_rel_err(ours[-1], ref[-1]) <= TOL


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in REFERENCE_SPECS])
def test_per_group_overrides_match_torch(spec):
    """Each group carries its own hyperparameters (lr, weight decay and the last variant's options that the
    reference keeps per group: lion-pytorch's ``decoupled_weight_decay`` is per optimizer)."""
    init = make_params()
    per_group = set(reference(spec)([torch.zeros(1, requires_grad=True)]).param_groups[0])
    extra = {k: v for k, v in variants(spec)[-1].items() if k != "maximize" and k in per_group}

    def groups(ps):
        return [{"params": ps[:1], "weight_decay": 0.05}, {"params": ps[1:], "lr": 0.003, **extra}]

    a = [x.clone().requires_grad_() for x in init]
    b = [x.clone().requires_grad_() for x in init]
    oa, ob = spec.make(groups(a), lr=0.01), reference(spec)(groups(b), lr=0.01)
    from tests.helpers import loss_fn

    for _ in range(50):
        for ps, o in ((a, oa), (b, ob)):
            o.zero_grad()
            loss_fn(ps).backward()
            o.step()
    assert max_rel_err(a, b) <= TOL


FP32_ULPS = 4
FP32_STEPS = 40


def _sync(ours, theirs, ps_ours, ps_theirs) -> None:
    """Our parameters and state set to torch's values, in place (the same tensor objects stay in use)."""
    with torch.no_grad():
        for a, b in zip(ps_ours, ps_theirs):
            a.copy_(b)
            for key, value in theirs.state[b].items():
                ours.state[a][key].copy_(value)


@pytest.mark.parametrize("impl", ["fused", "auto"])
@pytest.mark.parametrize("spec,variant", VARIANTS)
def test_fp32_every_step_within_a_few_ulps_of_torch(spec, variant, impl):
    """From the same float32 parameters and state, one step of the generated kernel lands within
    ``FP32_ULPS`` ulps (of each tensor's largest value) of torch's for-loop step, for every step of a run: the
    tolerance of one step's round-off (errors cannot accumulate, each step starts from torch's values)."""
    from tests.helpers import loss_fn, two_groups

    init = make_params(dtype=torch.float32)
    sign = -1.0 if variant.get("maximize") else 1.0
    a = [x.clone().requires_grad_() for x in init]
    b = [x.clone().requires_grad_() for x in init]
    ours = spec.make(two_groups(a, 0.01), lr=0.01, impl=impl, **variant)
    theirs = reference(spec)(two_groups(b, 0.01), lr=0.01, **reference_path(spec, "reference"), **variant)
    eps = torch.finfo(torch.float32).eps
    for t in range(FP32_STEPS):
        if t:
            _sync(ours, theirs, a, b)
        before = [x.detach().clone() for x in b]
        for ps, opt in ((a, ours), (b, theirs)):
            opt.zero_grad()
            (sign * loss_fn(ps)).backward()
            opt.step()
        for i, (x, y, y0) in enumerate(zip(a, b, before)):
            ulps = ((x - y).abs().max() / (eps * y.abs().max())).item()
            assert ulps <= FP32_ULPS, f"step {t + 1}, param {i}: {ulps:.1f} ulps"
            for key, value in theirs.state[b[i]].items():
                mine = ours.state[a[i]][key]
                if value.dim():
                    ulps = ((mine - value).abs().max() / (eps * value.abs().max().clamp_min(1e-30))).item()
                    assert ulps <= FP32_ULPS, f"step {t + 1}, param {i}, {key}: {ulps:.1f} ulps"
                else:
                    assert mine.item() == value.item(), key
