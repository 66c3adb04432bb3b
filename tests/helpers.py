"""Test helpers: run optimizers side by side on the same deterministic problem."""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def make_params(dtype=torch.float64, shapes=((5, 3), (4,), (2, 2)), seed=0, complex_last=False):
    g = torch.Generator().manual_seed(seed)
    ps = [torch.randn(*s, generator=g, dtype=dtype) for s in shapes]
    if complex_last:
        ps[-1] = torch.complex(ps[-1], torch.randn(ps[-1].shape, generator=g, dtype=dtype))
    return ps


def loss_fn(ps: Sequence[torch.Tensor]) -> torch.Tensor:
    """A smooth, non-quadratic loss so every state buffer matters."""
    total = 0
    for i, p in enumerate(ps):
        x = torch.view_as_real(p) if p.is_complex() else p
        total = total + ((x - 0.5) ** 4).sum() + (x * (i + 1)).sin().sum() + 0.1 * (x ** 2).sum()
    return total


def two_groups(ps, lr: float):
    return [{"params": ps[:1]}, {"params": ps[1:], "lr": lr * 0.5}]


def train(opt_factory: Callable, init: Sequence[torch.Tensor], steps: int, lr: float = 0.01,
          scheduler: Callable | None = None, grouped: bool = True, maximize: bool = False):
    """Run ``steps`` steps from ``init``; return (params, optimizer, per-step snapshots).

    With ``maximize`` the objective is ``-loss`` (bounded above), for optimizers built with maximize=True.
    """
    ps = [x.clone().requires_grad_() for x in init]
    opt = opt_factory(two_groups(ps, lr) if grouped else ps, lr=lr)
    sched = scheduler(opt) if scheduler else None
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (-loss_fn(ps) if maximize else loss_fn(ps)).backward()
        opt.step()
        if sched is not None:
            sched.step()
        history.append([p.detach().clone() for p in ps])
    return ps, opt, history


def assert_same_state(ours: torch.optim.Optimizer, ref: torch.optim.Optimizer) -> None:
    """Both optimizers hold the same state, bit for bit: per parameter (in order) the same keys and equal values,
    and the same per-group step counts where the reference keeps them in the group (pytorch-optimizer)."""
    for gi, (ga, gb) in enumerate(zip(ours.param_groups, ref.param_groups)):
        assert ga.get("step") == gb.get("step"), f"group {gi}: step {ga.get('step')} != {gb.get('step')}"
        for pi, (pa, pb) in enumerate(zip(ga["params"], gb["params"])):
            sa, sb = ours.state.get(pa, {}), ref.state.get(pb, {})
            assert sorted(sa) == sorted(sb), f"group {gi}, param {pi}: state keys {sorted(sa)} != {sorted(sb)}"
            for key, vb in sb.items():
                va = sa[key]
                a, b = torch.as_tensor(va), torch.as_tensor(vb)
                assert a.dtype == b.dtype and torch.equal(a, b), (
                    f"group {gi}, param {pi}, state {key!r}: {a.dtype} {a.flatten()[:4].tolist()} != "
                    f"{b.dtype} {b.flatten()[:4].tolist()}")


def max_rel_err(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    err = 0.0
    for x, y in zip(a, b):
        x, y = x.detach(), y.detach()
        if x.numel() == 0:
            continue
        scale = y.abs().clamp_min(1e-8)
        err = max(err, ((x - y).abs() / scale).max().item())
    return err
