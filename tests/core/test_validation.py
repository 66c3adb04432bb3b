"""Every invalid hyperparameter raises a ValueError naming the argument, the value and what is allowed."""

from __future__ import annotations

import itertools
import math
import re

import pytest
import torch

import optimlab
from optimlab import registry
from optimlab.validation import Boolean, Choice, Interval, Pair
from tests.optimizers.cases import DENSE_ONLY_IDS, SPEC_IDS, TORCH_SPEC_IDS, reference


def _bad_values(check):
    if isinstance(check, Interval):
        out = [math.nan, math.inf, "0.1"]
        if check.low is not None:
            out.append(check.low - 1.0)
        if check.high is not None:
            out.append(check.high + 1.0)
        return out
    if isinstance(check, Pair):
        beyond = (check.each.high + (0.0 if check.each.high_open else 1.0), 0.9) if check.each.high is not None else ()
        return [(0.9,), (0.9, -0.1), (math.nan, 0.9), "ab", *([beyond] if beyond else [])]
    if isinstance(check, Boolean):
        return ["yes", 1, None]
    if isinstance(check, Choice):
        return ["no-such-option"]
    return ["no-such-option"]  # engine options with dynamic choices


CASES = [
    pytest.param(spec, h.name, bad, id=f"{spec.name}-{h.name}={bad!r}")
    for spec in registry.specs() for h in spec.hypers for bad in _bad_values(h.check)
]


@pytest.mark.parametrize("spec,name,bad", CASES)
def test_invalid_default_is_rejected(spec, name, bad):
    with pytest.raises(ValueError) as info:
        spec.make([torch.zeros(2, requires_grad=True)], **{name: bad})
    msg = str(info.value)
    assert name in msg and "allowed" in msg


PROBES = (-0.1, 0.0, 0.5, 1.0, 1.2)


@pytest.mark.parametrize("spec", TORCH_SPEC_IDS)
def test_every_pair_torch_refuses_is_refused(spec):
    """Each pair of numbers (betas, etas, step_sizes) made of the probes: where torch's constructor refuses it, ours
    refuses it too, naming the argument (ours may refuse more: non-finite numbers, negative step sizes)."""
    for h in spec.hypers:
        if not isinstance(h.check, Pair):
            continue
        for value in itertools.product(PROBES, repeat=h.check.size):
            try:
                reference(spec)([torch.zeros(2, requires_grad=True)], **{h.name: value})
            except ValueError:
                with pytest.raises(ValueError, match=re.escape(h.name)):
                    spec.make([torch.zeros(2, requires_grad=True)], **{h.name: value})


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_invalid_group_override_is_rejected_before_the_group_is_added(spec):
    opt = spec.make([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], "lr": -1.0})
    assert len(opt.param_groups) == 1


def test_negative_lr_message_names_value_and_range():
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0\.1 \(lr=-0\.1\); allowed: a finite number in \[0\.0, inf\)"):
        optimlab.Adam([torch.zeros(1, requires_grad=True)], lr=-0.1)


def test_betas_outside_unit_interval():
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        optimlab.Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 1.0))


@pytest.mark.parametrize("kw", [dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(kw):
    with pytest.raises(ValueError, match="nesterov"):
        optimlab.SGD([torch.zeros(1, requires_grad=True)], **kw)


def test_rho_outside_unit_interval():
    with pytest.raises(ValueError, match="rho"):
        optimlab.Adadelta([torch.zeros(1, requires_grad=True)], rho=1.5)


def test_tensor_instead_of_iterable():
    with pytest.raises(TypeError, match="iterable"):
        optimlab.Adam(torch.zeros(3, requires_grad=True))


def test_param_in_two_groups():
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimlab.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_unknown_optimizer_name_lists_valid_ones():
    with pytest.raises(registry.UnknownOptimizerError, match="valid names: sgd, momentum"):
        registry.get("adamm")


def test_unknown_hyperparameter_via_spec_lists_valid_ones():
    with pytest.raises(TypeError, match="no hyperparameter momentum; valid:"):
        registry.get("adam").make([torch.zeros(1, requires_grad=True)], momentum=0.9)


@pytest.mark.parametrize("spec", DENSE_ONLY_IDS)
def test_sparse_gradient_gives_clear_error(spec):
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = spec.make(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    before = emb.weight.detach().clone()
    with pytest.raises(RuntimeError, match="does not support sparse gradients.*param_groups\\[0\\]\\['params'\\]\\[0\\]"):
        opt.step()
    assert torch.equal(emb.weight, before)


@pytest.mark.parametrize("make, match", [
    (lambda p: optimlab.NAG([p], momentum=0.0), r"Invalid nesterov=True with momentum=0.0"),
    (lambda p: optimlab.Momentum([{"params": [p], "nesterov": True, "dampening": 0.5}]), r"dampening=0.5"),
    (lambda p: optimlab.Momentum([{"params": [p], "nesterov": "yes"}]), r"Invalid nesterov: 'yes'; allowed: True or False"),
    (lambda p: optimlab.AdamW([{"params": [p], "decoupled_weight_decay": "x"}]), r"Invalid decoupled_weight_decay"),
])
def test_options_a_recipe_fixes_are_still_checked_in_groups(make, match):
    """NAG/Momentum/AdamW fix some of their parent's options; a group may override them, and is checked."""
    with pytest.raises(ValueError, match=match):
        make(torch.zeros(2, requires_grad=True))


def test_integer_and_lr_range_constraints():
    from optimlab.validation import LR_RANGE, Integer, LrRange

    assert Integer(2, 5)("n", 3) == 3
    for bad in (True, 1, 6, 2.0, "3"):
        with pytest.raises(ValueError, match=r"Invalid n: .*; allowed: an integer in \[2, 5\]"):
            Integer(2, 5)("n", bad)
    assert LR_RANGE("r", (1e-3, 1)) == (1e-3, 1.0) and LR_RANGE("r", [0.1, 0.1]) == (0.1, 0.1)
    for bad, why in (((1, 0.1), "empty"), ((0, 1), "not positive"), ((1e-3, math.inf), "not finite")):
        with pytest.raises(ValueError, match=f"Invalid r: .*allowed: .*the range is {why}"):
            LR_RANGE("r", bad)
    with pytest.raises(ValueError, match="the range is empty"):
        LrRange(strict=True)("r", (0.1, 0.1))
    with pytest.raises(ValueError, match="Invalid r: 'ab'"):
        LR_RANGE("r", "ab")
