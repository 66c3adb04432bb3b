"""The steady-state plan: from the second step a group's kernel step runs without re-checking everything — but
anything that could make its cached addresses or traced program wrong sends the step down the general path."""

from __future__ import annotations

import pytest
import torch

import optimlab
from optimlab.engine import plan as plan_module
from optimlab.engine.trace import Program
from tests.helpers import loss_fn, make_params
from tests.optimizers.cases import SPEC_IDS


@pytest.fixture
def planned(monkeypatch):
    """Counts the steps a plan ran (True) or declined (False)."""
    calls = []
    real = plan_module.Plan.run

    def run(self, *args):
        ok = real(self, *args)
        calls.append(ok)
        return ok

    monkeypatch.setattr(plan_module.Plan, "run", run)
    return calls


def _pair(cls=optimlab.Adam, **hypers):
    """The same run under impl='fused' (planned) and impl='reference' (never planned)."""
    init = make_params(dtype=torch.float32)
    out = []
    for impl in ("fused", "reference"):
        ps = [x.clone().requires_grad_() for x in init]
        out.append((ps, cls(ps, impl=impl, **hypers)))
    return out


def _step(ps, opt):
    opt.zero_grad()
    loss_fn(ps).backward()
    opt.step()


def _equal(run_a, run_b):
    (pa, oa), (pb, ob) = run_a, run_b
    assert all(torch.equal(x, y) for x, y in zip(pa, pb))
    for x, y in zip(pa, pb):
        for k, v in ob.state[y].items():
            assert torch.equal(oa.state[x][k], v), k


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_steady_steps_run_through_the_plan_and_equal_the_reference(spec, planned, rounded_sqrt, monkeypatch):
    """Every optimizer: step counts kept per parameter or per group (AdEMAMix), scalar state (ASGD, NAdam)."""
    branch_changes = []
    evaluate = Program.evaluate

    def recording(self, *args):
        result = evaluate(self, *args)
        if result is None and self.tape.guards:
            branch_changes.append(args[1])
        return result

    monkeypatch.setattr(Program, "evaluate", recording)
    decay = {"weight_decay": 0.1} if "weight_decay" in spec.defaults else {}  # Rprop has none
    fused, ref = _pair(spec.make, lr=0.01, **decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(fused[1], T_max=10)
    sched_ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref[1], T_max=10)
    for _ in range(12):
        for run, s in ((fused, sched), (ref, sched_ref)):
            _step(*run)
            s.step()
    _equal(fused, ref)
    assert fused[1].param_groups[0].get("step") == ref[1].param_groups[0].get("step")
    # every step after the first: new lrs are numbers, not structure; only a rule that takes another branch
    # (RAdam's switch to the adaptive step once rho_t > 5) sends one step down the general path
    assert planned and planned.count(False) == len(set(branch_changes))


@pytest.mark.parametrize("change", ["param_data", "state_tensor", "state_data", "flag", "grad_none", "impl",
                                    "grad_layout", "load_state_dict", "step_tensor", "step_data"])
def test_anything_the_plan_depends_on_sends_the_step_down_the_general_path(change, planned, rounded_sqrt):
    fused, ref = _pair(lr=0.01)
    for _ in range(3):
        for run in (fused, ref):
            _step(*run)
    planned.clear()
    old = []  # memory a tensor moved away from stays allocated: a plan that still used it would write there
    for ps, opt in (fused, ref):
        p = ps[0]
        if change == "param_data":
            old.append(p.data)
            p.data = p.data.clone()
        elif change == "state_tensor":
            opt.state[p]["exp_avg"] = opt.state[p]["exp_avg"].clone()
        elif change == "state_data":  # the same tensor object, its memory moved
            old.append(opt.state[p]["exp_avg"].data)
            opt.state[p]["exp_avg"].data = opt.state[p]["exp_avg"].data.clone()
        elif change == "flag":
            for g in opt.param_groups:
                g["amsgrad"] = True
                for q in g["params"]:
                    opt.state[q]["max_exp_avg_sq"] = torch.zeros_like(q)
        elif change == "impl" and opt.param_groups[0]["impl"] == "fused":
            opt.param_groups[0]["impl"] = "foreach"
        elif change == "load_state_dict":
            opt.load_state_dict(opt.state_dict())
        elif change == "step_tensor":
            opt.state[p]["step"] = opt.state[p]["step"].clone()
        elif change == "step_data":  # the same step tensor, its memory moved (the old memory stays allocated)
            old.append(opt.state[p]["step"].data)
            opt.state[p]["step"].data = opt.state[p]["step"].data.clone()
        opt.zero_grad()
        loss_fn(ps).backward()
        if change == "grad_none":
            ps[1].grad = None
        elif change == "grad_layout":
            ps[0].grad = ps[0].grad.t().contiguous().t() if ps[0].dim() == 2 else ps[0].grad
        opt.step()
    assert planned in ([], [False])  # declined (or dropped by load_state_dict): the general path ran
    _equal(fused, ref)
    for run in (fused, ref):  # and the run goes on, planned again
        _step(*run)
    _equal(fused, ref)


def test_a_guard_on_a_number_is_rechecked(planned, rounded_sqrt):
    """weight_decay 0 -> 0.1 changes the chain (a number that selects structure): the plan declines."""
    fused, ref = _pair(cls=optimlab.SGD, lr=0.01, momentum=0.9)
    for _ in range(3):
        for run in (fused, ref):
            _step(*run)
    planned.clear()
    for _, opt in (fused, ref):
        opt.param_groups[0]["weight_decay"] = 0.1
    for run in (fused, ref):
        _step(*run)
    assert planned == [False]
    _equal(fused, ref)


def test_a_parameter_of_another_layout_is_updated_on_every_step(planned, rounded_sqrt):
    """A strided slice (with a contiguous gradient, as backward gives it) is a staged row: it runs apart from the
    kernel's call on the whole table, on every step, the steady ones included."""
    init = make_params(dtype=torch.float32)
    out = []
    for impl in ("fused", "reference"):
        base = torch.zeros(5, 6)
        base[:, ::2] = init[0]
        ps = [base[:, ::2].requires_grad_(), *(x.clone().requires_grad_() for x in init[1:])]
        assert not ps[0].is_contiguous()
        out.append((ps, optimlab.Adam(ps, lr=0.01, impl=impl)))
    for _ in range(6):
        for run in out:
            _step(*run)
    _equal(*out)
