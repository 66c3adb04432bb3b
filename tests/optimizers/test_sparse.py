"""Sparse gradients (an ``nn.Embedding(sparse=True)``) in the optimizers that declare them, as torch.optim's
SGD and Adagrad take them: same steps as torch, ``p.grad`` left sparse and untouched, guard and checkpoints."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import max_rel_err
from tests.optimizers.cases import SPARSE_VARIANTS, reference

STEPS = 60
ROWS = [torch.tensor(r) for r in ([1, 3, 3, 7], [0, 1], [5, 9, 9, 9, 2], [3])]  # repeats sum, as torch does


def _run(factory, variant, steps=STEPS, densify=False):
    """Embedding rows looked up in a fixed cycle; the loss is smooth and not quadratic."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 4, sparse=True, dtype=torch.float64)
    sign = -1.0 if variant.get("maximize") else 1.0
    opt = factory([emb.weight], lr=0.05, **variant)
    grads, history = [], []
    for t in range(steps):
        opt.zero_grad()
        x = emb(ROWS[t % len(ROWS)])
        (sign * (((x - 0.3) ** 4).sum() + x.sin().sum())).backward()
        if densify:
            emb.weight.grad = emb.weight.grad.to_dense()
        grads.append(emb.weight.grad)
        opt.step()
        history.append(emb.weight.detach().clone())
    return history, grads, opt


@pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")  # torch's own Adagrad
@pytest.mark.parametrize("spec,variant", SPARSE_VARIANTS)
def test_sparse_gradients_match_torch(spec, variant):
    ours, grads, _ = _run(spec.make, variant)
    assert all(g.is_sparse for g in grads)
    try:
        ref, _, _ = _run(reference(spec), variant)
    except RuntimeError as exc:  # torch refuses some options with sparse gradients (Adagrad's weight decay)
        assert "sparse" in str(exc)
        ref, _, _ = _run(reference(spec), variant, densify=True)  # the same gradients, densified
    for t, (a, b) in enumerate(zip(ours, ref)):
        err = max_rel_err([a], [b])
        assert err <= 1e-10, f"step {t + 1}: relative error {err:.3e}"
    assert not torch.equal(ours[0], ours[-1])


@pytest.mark.parametrize("spec,variant", SPARSE_VARIANTS[:1] + [p for p in SPARSE_VARIANTS if p.id == "adagrad[defaults]"])
def test_sparse_grad_untouched_and_rows_without_gradient_stay(spec, variant):
    emb = torch.nn.Embedding(6, 3, sparse=True)
    before = emb.weight.detach().clone()
    opt = spec.make(emb.parameters(), lr=0.1, **variant)
    emb(torch.tensor([1, 4])).sum().backward()
    grad = emb.weight.grad
    snapshot = grad.coalesce().values().clone()
    opt.step()
    assert emb.weight.grad is grad and grad.is_sparse and torch.equal(grad.coalesce().values(), snapshot)
    moved = (emb.weight.detach() != before).any(dim=1)
    assert moved.tolist() == [False, True, False, False, True, False]


def test_nonfinite_guard_sees_sparse_values():
    import optimlab

    emb = torch.nn.Embedding(5, 2, sparse=True)
    opt = optimlab.SGD(emb.parameters(), lr=0.1, nonfinite="raise")
    (emb(torch.tensor([2])) * float("inf")).sum().backward()
    before = emb.weight.detach().clone()
    with pytest.raises(optimlab.NonFiniteGradientError, match="weight|params"):
        opt.step()
    assert torch.equal(emb.weight, before)


def test_torch_checkpoint_with_sparse_momentum_continues():
    """torch.optim.SGD keeps a sparse momentum buffer for sparse gradients; optimlab loads it and goes on."""
    import optimlab

    def make(cls):
        torch.manual_seed(1)
        emb = torch.nn.Embedding(8, 3, sparse=True, dtype=torch.float64)
        return emb, cls(emb.parameters(), lr=0.05, momentum=0.9)

    def steps(emb, opt, ts):
        for t in ts:
            opt.zero_grad()
            (emb(ROWS[t % len(ROWS)] % 8) ** 3).sum().backward()
            opt.step()

    emb_t, opt_t = make(torch.optim.SGD)
    steps(emb_t, opt_t, range(5))
    assert opt_t.state[emb_t.weight]["momentum_buffer"].is_sparse
    emb_o, opt_o = make(optimlab.SGD)
    emb_o.load_state_dict(emb_t.state_dict())
    opt_o.load_state_dict(opt_t.state_dict())
    steps(emb_t, opt_t, range(5, 15))
    steps(emb_o, opt_o, range(5, 15))
    assert max_rel_err([emb_o.weight], [emb_t.weight]) <= 1e-12


def test_functional_api_takes_sparse_gradients_like_the_class():
    import optimlab
    from optimlab import functional as F

    emb_a = torch.nn.Embedding(6, 2, sparse=True, dtype=torch.float64)
    emb_b = torch.nn.Embedding(6, 2, sparse=True, dtype=torch.float64)
    emb_b.load_state_dict(emb_a.state_dict())
    opt = optimlab.Adagrad(emb_a.parameters(), lr=0.1)
    state: dict = {}
    for rows in ROWS:
        for emb in (emb_a, emb_b):
            emb.zero_grad()
            (emb(rows % 6) ** 2).sum().backward()
        opt.step()
        F.adagrad([emb_b.weight], [emb_b.weight.grad], [state], lr=0.1)
    assert torch.equal(emb_a.weight, emb_b.weight)
    with pytest.raises(RuntimeError, match=r"Adam does not support sparse gradients.*grads\[0\].*SGD, Momentum, NAG, Adagrad"):
        F.adam([emb_b.weight], [emb_b.weight.grad], [{}])
