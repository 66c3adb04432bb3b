"""``optimlab demo``: an MLP on scikit-learn's bundled 8×8 digits, trained with every optimizer.

Each optimizer starts from the same initial weights and sees the same minibatches. Its learning rate
is picked from its registry range (one per decade) by validation loss; the table reports the final
training loss and the test accuracy at that learning rate.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from optimlab import registry


def load_digits_split(seed: int = 0):
    """Standardised digits, split 60/20/20 into train/validation/test tensors."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32)
    y = torch.tensor(data.target, dtype=torch.long)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    x, y = x[perm], y[perm]
    n_tr, n_va = int(0.6 * len(x)), int(0.2 * len(x))
    mean, std = x[:n_tr].mean(0), x[:n_tr].std(0) + 1e-6
    x = (x - mean) / std
    return (x[:n_tr], y[:n_tr]), (x[n_tr:n_tr + n_va], y[n_tr:n_tr + n_va]), (x[n_tr + n_va:], y[n_tr + n_va:])


def mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))


def train(name: str, lr: float, data, epochs: int, seed: int = 0) -> dict[str, float]:
    (xtr, ytr), (xva, yva), (xte, yte) = data
    model = mlp(seed)
    opt = registry.get(name).make(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    loss = torch.tensor(float("nan"))
    for _ in range(epochs):
        for idx in torch.randperm(len(xtr), generator=gen).split(64):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        train_loss = loss_fn(model(xtr), ytr).item()
        val_loss = loss_fn(model(xva), yva).item()
        test_acc = (model(xte).argmax(1) == yte).float().mean().item()
    return {"lr": lr, "train_loss": train_loss, "val_loss": val_loss, "test_acc": test_acc}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=10, help="training epochs per run (default: 10)")
    parser.add_argument("--optimizers", default=",".join(registry.names()),
                        help="comma-separated registry names (default: the whole family)")


def run(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise ValueError(f"Invalid --epochs: {args.epochs}; allowed: an integer >= 1")
    names = [registry.get(n).name for n in args.optimizers.split(",") if n.strip()]
    torch.set_num_threads(1)
    data = load_digits_split()
    print(f"digits MLP 64-64-10, {args.epochs} epochs, minibatch 64; lr picked per optimizer by validation loss\n")
    print(f"{'optimizer':<10} {'best lr':>9} {'train loss':>11} {'val loss':>9} {'test acc':>9} {'time':>7}")
    for name in names:
        t0 = time.perf_counter()
        runs = [train(name, lr, data, args.epochs) for lr in registry.get(name).lr_grid(per_decade=1)]
        finite = [r for r in runs if r["val_loss"] == r["val_loss"] and r["val_loss"] < float("inf")]
        best = min(finite, key=lambda r: r["val_loss"]) if finite else runs[0]
        print(f"{name:<10} {best['lr']:>9.0e} {best['train_loss']:>11.4f} {best['val_loss']:>9.4f} "
              f"{best['test_acc']:>9.3f} {time.perf_counter() - t0:>6.1f}s")
    return 0
