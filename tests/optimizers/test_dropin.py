"""Drop-in for torch.optim: what code written for torch.optim does to an optimizer works on optimlab's.

Copies and pickles, older checkpoints, load-state-dict hooks, round trips, torch's keyword arguments with
torch's meaning, gradients through the step (``differentiable=True``), torch's AMP protocol for fused
optimizers, and torch's exception types for what torch refuses.
"""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import optimlab
from tests.catalogue import CATALOGUE
from tests.helpers import loss_fn, make_params, two_groups
from tests.optimizers.cases import SPEC_IDS, SPECS, TORCH_SPECS, reference, variants

TORCH_IDS = [pytest.param(s, id=s.name) for s in TORCH_SPECS]


def _stepped(spec, steps=3, dtype=torch.float64, **hypers):
    ps = [x.clone().requires_grad_() for x in make_params(dtype=dtype)]
    opt = spec.make(two_groups(ps, 0.01), lr=0.01, **hypers)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(ps).backward()
        opt.step()
    return ps, opt


def _continue(ps, opt, steps=5):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(ps).backward()
        opt.step()
    return [p.detach().clone() for p in ps]


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("spec", SPEC_IDS)
def test_a_copy_is_a_working_optimizer(spec, how):
    ps, opt = _stepped(spec)
    opt.skipped_steps = 2
    if how == "deepcopy":
        ps2, opt2 = copy.deepcopy((ps, opt))
    else:
        ps2, opt2 = pickle.loads(pickle.dumps((ps, opt)))
    assert opt2.skipped_steps == 2 and opt2.last_impl == []
    assert opt2.state_dict()["optimlab"] == {"skipped_steps": 2}
    assert {k for k in opt.__dict__ if not k.startswith("_")} == {k for k in opt2.__dict__ if not k.startswith("_")}
    a, b = _continue(ps, opt), _continue(ps2, opt2)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def _keeps_a_step(spec) -> bool:
    """Whether torch's optimizer keeps a per-parameter ``step`` (SGD keeps none)."""
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.ones(1)
    opt = reference(spec)([p])
    opt.step()
    return "step" in opt.state[p]


@pytest.mark.parametrize("impl", ["reference", "foreach", "fused"])
@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TORCH_SPECS if _keeps_a_step(s)])
def test_a_checkpoint_with_plain_number_steps_loads_and_steps_as_in_torch(spec, impl):
    """Older torch versions saved ``step`` as a Python number; torch turns it into a tensor on load, so do we,
    and the run goes on as torch's does from the same checkpoint."""
    ps, opt = _stepped(spec, impl=impl)
    sd = copy.deepcopy(opt.state_dict())
    assert all("step" in st for st in sd["state"].values())
    for st in sd["state"].values():
        st["step"] = st["step"].item()
    runs = []
    for make in (lambda groups: spec.make(groups, lr=0.01, impl=impl), lambda groups: reference(spec)(groups, lr=0.01)):
        qs = [p.detach().clone().requires_grad_() for p in ps]
        o = make(two_groups(qs, 0.01))
        o.load_state_dict(copy.deepcopy(sd))
        assert all(isinstance(st["step"], torch.Tensor) for st in o.state.values())
        runs.append(_continue(qs, o))
    for x, y in zip(*runs):
        torch.testing.assert_close(x, y, rtol=0 if impl != "fused" else 1e-10, atol=0)


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_load_state_dict_post_hooks_run_last_and_see_the_loaded_state(spec):
    ps, opt = _stepped(spec)
    sd = copy.deepcopy(opt.state_dict())
    for st in sd["state"].values():
        if "step" in st:
            st["step"] = st["step"].item()
    ps2 = [p.detach().clone().requires_grad_() for p in ps]
    opt2 = spec.make(two_groups(ps2, 0.01), lr=0.01)
    seen = {}

    def hook(o):
        steps = [st["step"] for st in o.state.values() if isinstance(st, dict) and "step" in st]
        seen["steps_are_tensors"] = all(isinstance(s, torch.Tensor) for s in steps)
        seen["lr"] = o.param_groups[1]["lr"]
        o.state["flag"] = True  # a hook's own entry must not break anything after it

    opt2.register_load_state_dict_post_hook(hook)
    opt2.load_state_dict(sd)
    assert seen == {"steps_are_tensors": True, "lr": sd["param_groups"][1]["lr"]}
    assert opt2.state["flag"] is True


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_state_dict_is_stable_across_a_round_trip(spec):
    ps, opt = _stepped(spec)
    opt.skipped_steps = 2  # what nonfinite="skip" counts: a checkpoint carries it
    ps2 = [p.detach().clone().requires_grad_() for p in ps]
    opt2 = spec.make(two_groups(ps2, 0.01), lr=0.01)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.skipped_steps == 2
    a, b = opt.state_dict(), opt2.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert [set(g) for g in a["param_groups"]] == [set(g) for g in opt2.state_dict()["param_groups"]]
    assert a.keys() == b.keys() and a["state"].keys() == b["state"].keys()


@pytest.mark.parametrize("spec", TORCH_IDS)
def test_param_groups_have_torchs_keys(spec):
    """Every key torch.optim puts in a param group is in ours (so torch-written code that reads them works);
    ours add only optimlab's own options."""
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    ours, theirs = spec.make([p]), reference(spec)([q])
    assert set(ours.param_groups[0]) - set(theirs.param_groups[0]) == {"impl", "nonfinite"}
    assert set(theirs.param_groups[0]) <= set(ours.param_groups[0])


_PATH_FLAGS = [({"foreach": True}, "foreach"), ({"foreach": False}, "reference"), ({"fused": True}, "fused"),
               ({}, "fused")]


@pytest.mark.parametrize("spec, flags, impl", [  # each optimizer with the flags it (and its reference) takes
    pytest.param(s, flags, impl, id=f"{s.name}-{flags}") for s in SPECS for flags, impl in _PATH_FLAGS
    if set(flags) <= set(s.defaults)])
def test_torchs_path_flags_choose_the_path(spec, flags, impl):
    _, opt = _stepped(spec, steps=1, **flags)
    assert {name for used in opt.last_impl for name, _ in used} == {impl}


def test_conflicting_path_choices_are_refused_as_torch_refuses_them():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optimlab.Adam([p], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        optimlab.SGD([p], fused=True, differentiable=True)
    with pytest.raises(ValueError, match="impl: 'reference' with torch's flags foreach=True"):
        optimlab.Adam([p], impl="reference", foreach=True)


def test_capturable_is_refused_with_a_reason():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    opt = optimlab.Adam([p], capturable=True)
    with pytest.raises(RuntimeError, match="capturable=True"):
        opt.step()
    assert torch.equal(p, torch.zeros(2)) and not opt.state[p]


def test_unknown_keyword_is_a_type_error_as_in_python():
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        optimlab.Adam([torch.zeros(1, requires_grad=True)], foo=1)
    with pytest.raises(TypeError):
        optimlab.Adam([torch.zeros(1, requires_grad=True)], 1e-3, (0.9, 0.99), 1e-8, 0.0, False, "extra")


# -- gradients through the step --------------------------------------------------------------------------

DIFF_CASES = [pytest.param(s, v, id=f"{s.name}-{i}") for s in TORCH_SPECS for i, v in enumerate(variants(s))]


def _warm_state(spec, variant):
    """A parameter, a gradient and the optimizer state two ordinary steps leave (float64, detached). Their gradients
    keep one sign per coordinate: Rprop's step jumps where the gradient it remembers is 0, as a sign change leaves
    it (there no gradient exists, for torch's step as for ours)."""
    g = torch.Generator().manual_seed(0)
    p = torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)
    opt = spec.make([p], lr=0.05, **variant)
    signs = torch.randn(5, generator=g, dtype=torch.float64).sign()
    for _ in range(2):
        p.grad = signs * (0.5 + torch.rand(5, generator=g, dtype=torch.float64))
        opt.step()
    state = {k: v.detach().clone() for k, v in opt.state[p].items()}
    return p.detach().clone(), torch.randn(5, generator=g, dtype=torch.float64), state


def _one_step(cls, hypers, state, keys, p, grad, *values):
    """One differentiable step from ``state`` (tensors ``keys`` replaced by ``values``): the new parameter and
    the new values of those state tensors — a function gradcheck and autograd can differentiate."""
    p = p.clone()
    p.grad = grad
    opt = cls([p], **hypers, differentiable=True)
    opt.state[p].update({k: v.clone() for k, v in state.items()})
    opt.state[p].update({k: v.clone() for k, v in zip(keys, values)})
    opt.step()
    return (p, *(opt.state[p][k] for k in keys))


def _inputs(spec, variant):
    p, grad, state = _warm_state(spec, variant)
    keys = [k for k, v in state.items() if v.dim()]
    leaves = [x.clone().requires_grad_() for x in (p, grad, *(state[k] for k in keys))]
    hypers = {"lr": 0.05, **variant}
    return hypers, state, keys, leaves


@pytest.mark.parametrize("spec,variant", DIFF_CASES)
def test_differentiable_step_gives_torchs_gradients(spec, variant):
    """The Jacobian of one step (new parameter and state with respect to parameter, gradient and state) equals
    torch's, to the catalogue's ``differentiable_rtol`` of each value's scale (1e-12 unless torch computes some
    factor in another precision there)."""
    hypers, state, keys, leaves = _inputs(spec, variant)
    out = {}
    for name, cls in (("ours", spec.cls), ("torch", getattr(reference(spec), "func", reference(spec)))):
        kw = {**getattr(reference(spec), "keywords", {}), **hypers} if name == "torch" else hypers
        outs = _one_step(cls, kw, state, keys, *leaves)
        weights = [torch.linspace(-1, 1, o.numel(), dtype=o.dtype).reshape(o.shape) for o in outs]
        total = sum((w * o).sum() for w, o in zip(weights, outs))
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
        out[name] = [o.detach() for o in outs] + [x if x is not None else torch.zeros_like(l)
                                                  for x, l in zip(grads, leaves)]
    tol = CATALOGUE[spec.name].differentiable_rtol
    for a, b in zip(out["ours"], out["torch"]):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol * b.abs().max().item())
    assert any(x.abs().sum() > 0 for x in out["ours"][len(keys) + 1:])


MOMENTUM_CASES = [pytest.param(s, v, id=f"{s.name}-{i}") for s in TORCH_SPECS for i, v in enumerate(variants(s))
                  if {**s.defaults, **v}.get("momentum", 0) > 0]


@pytest.mark.parametrize("spec,variant", MOMENTUM_CASES)
def test_differentiable_first_step_gives_torchs_gradients(spec, variant):
    """The first step, which creates the momentum buffer, as torch creates it: SGD's is a copy of the first update,
    detached from the graph (torch's first SGD step does not depend on the gradient at all); RMSprop's starts at
    zero and accumulates the update (its first step does). Within 1e-8 of each value's scale: the gradient with
    respect to RMSprop's gradient nearly cancels (d/dg of g / sqrt(g^2)), leaving round-off."""
    g = torch.Generator().manual_seed(1)
    leaves = [torch.randn(5, generator=g, dtype=torch.float64).requires_grad_() for _ in range(2)]
    weights = torch.linspace(-1, 1, 5, dtype=torch.float64)
    out = {}
    for name, cls in (("ours", spec.cls), ("torch", getattr(reference(spec), "func", reference(spec)))):
        kw = {**getattr(reference(spec), "keywords", {}), "lr": 0.05, **variant} if name == "torch" else \
            {"lr": 0.05, **variant}
        (p,) = _one_step(cls, kw, {}, [], *leaves)
        grads = torch.autograd.grad((weights * p).sum(), leaves, allow_unused=True)
        out[name] = [p.detach()] + [x if x is not None else torch.zeros_like(l) for x, l in zip(grads, leaves)]
    for a, b in zip(out["ours"], out["torch"]):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8 * b.abs().max().item())


@pytest.mark.parametrize("spec,variant", DIFF_CASES)
def test_differentiable_step_passes_gradcheck(spec, variant):
    """optimlab's analytical gradients through one step equal numerical ones (float64 finite differences, with a
    step small enough for AdaDelta's state, which is about 1e-5 here)."""
    hypers, state, keys, leaves = _inputs(spec, variant)
    fn = lambda *xs: _one_step(spec.cls, hypers, state, keys, *xs)  # noqa: E731
    assert torch.autograd.gradcheck(fn, tuple(leaves), eps=1e-9, atol=1e-6)


# -- torch's AMP protocol ------------------------------------------------------------------------------

FUSED_FLAG_IDS = [pytest.param(s, id=s.name) for s in TORCH_SPECS if "fused" in s.defaults]


@pytest.mark.parametrize("grad_scale", [None, torch.ones(1) * 4, torch.tensor(4.0)], ids=["none", "shape1", "0d"])
@pytest.mark.parametrize("spec", FUSED_FLAG_IDS)
def test_found_inf_skips_the_fused_step_entirely(spec, grad_scale):
    ps, opt = _stepped(spec, fused=True)
    before = [p.detach().clone() for p in ps]
    grads = [torch.full_like(p, 3.0) for p in ps]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    state = copy.deepcopy(opt.state_dict()["state"])
    opt.grad_scale, opt.found_inf = grad_scale, torch.ones(())
    opt.step()
    assert all(torch.equal(p, b) for p, b in zip(ps, before))
    assert all(torch.equal(p.grad, g) for p, g in zip(ps, grads))  # as torch's fused kernels: not even unscaled
    assert str(opt.state_dict()["state"]) == str(state)


@pytest.mark.parametrize("spec", FUSED_FLAG_IDS)
def test_grad_scale_unscales_the_gradients_like_torchs_fused_step(spec):
    ps, ours = _stepped(spec, fused=True)
    qs = [p.detach().clone().requires_grad_() for p in ps]
    theirs = reference(spec)(two_groups(qs, 0.01), lr=0.01, fused=True)
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    for xs, opt in ((ps, ours), (qs, theirs)):
        for p in xs:
            p.grad = torch.full_like(p, 8.0)
        opt.grad_scale, opt.found_inf = torch.ones(1) * 4, torch.zeros(())
        opt.step()
    for p, q in zip(ps, qs):
        assert torch.equal(p.grad, q.grad) and torch.equal(p.grad, torch.full_like(p, 2.0))
        torch.testing.assert_close(p, q, rtol=1e-12, atol=0)


# -- what torch refuses, refused with torch's exception types ------------------------------------------

def test_fused_on_an_unsupported_device_is_a_runtime_error_with_torchs_words():
    with torch.device("meta"):
        model = torch.nn.Linear(2, 3)
    opt = optimlab.Adam(model.parameters(), fused=True)
    with torch.device("meta"):
        for p in model.parameters():
            p.grad = torch.rand_like(p)
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point Tensors"):
        opt.step()


def test_betas_of_mixed_kinds_are_refused():
    with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
        optimlab.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, torch.tensor(0.99)))


def test_tensor_hyperparameters_with_foreach_are_refused_where_torch_refuses_them():
    p = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="lr as a Tensor is not supported for capturable=False and foreach=True"):
        optimlab.Adam(p, lr=torch.tensor(1e-3), foreach=True)
    with pytest.raises(ValueError, match=r"betas\[0\] as a Tensor is not supported"):
        optimlab.AdamW(p, betas=(torch.tensor(0.9), torch.tensor(0.99)), foreach=True)
    optimlab.SGD(p, lr=torch.tensor(1e-3), foreach=True)  # torch's SGD and Adagrad take them
    optimlab.Adagrad(p, lr=torch.tensor(1e-3), foreach=True)


def test_a_tensor_lr_of_several_elements_is_refused_in_torchs_words():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optimlab.SGD([torch.zeros(1, requires_grad=True)], lr=torch.tensor([1e-3, 1e-3]))


@pytest.mark.parametrize("spec", TORCH_IDS)
def test_invalid_hyperparameters_are_refused_in_torchs_words(spec):
    p = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match=r"Invalid learning rate: -1 \(lr=-1\); allowed"):
        spec.make(p, lr=-1)
    if "eps" in spec.defaults:
        with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
            spec.make(p, eps=-1)
    if "weight_decay" in spec.defaults:
        with pytest.raises(ValueError, match="Invalid weight_decay value: -1"):
            spec.make(p, weight_decay=-1)
    if "betas" in spec.defaults:
        with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
            spec.make(p, betas=(0.9, 1.0))
    if "etas" in spec.defaults:
        with pytest.raises(ValueError, match="Invalid eta values: 1.0, 0.5"):
            spec.make(p, etas=(1.0, 0.5))


def test_an_optimizer_that_refuses_complex_parameters_says_why_before_any_change():
    p = torch.randn(3, dtype=torch.complex64, requires_grad=True)
    q = torch.randn(3, requires_grad=True)
    opt = optimlab.Lion([q, p], lr=0.1)
    p.grad, q.grad = torch.ones_like(p), torch.ones_like(q)
    before = q.detach().clone()
    with pytest.raises(ValueError, match=r"Lion does not take complex parameters.*\[1\].*complex64"):
        opt.step()
    assert torch.equal(q, before) and not opt.state
