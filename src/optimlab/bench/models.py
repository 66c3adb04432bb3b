"""Small models for the benchmark tasks, and the objective wrappers for function tasks.

Each factory takes no arguments and initialises from torch's global generator; tasks call them under
a forked, seeded generator so that a seed fixes the initial weights for every optimizer.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn


def logreg(n_in: int, n_out: int = 10) -> nn.Module:
    """Multi-class logistic regression: one linear layer (softmax lives in the loss)."""
    return nn.Linear(n_in, n_out)


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int = 10) -> nn.Module:
    """ReLU multilayer perceptron ``n_in -> hidden... -> n_out``."""
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class Reshape(nn.Module):
    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)


def cnn2d_8x8(n_out: int = 10) -> nn.Module:
    """A small CNN for 8x8 images given as 64-vectors: conv16-pool-conv32-pool-linear."""
    return nn.Sequential(
        Reshape(1, 8, 8),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, n_out),
    )


def cnn1d(length: int = 40, n_out: int = 10) -> nn.Module:
    """A small 1-D CNN for MNIST-1D signals: three strided convolutions then a linear layer."""
    return nn.Sequential(
        Reshape(1, length),
        nn.Conv1d(1, 16, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv1d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * ((length + 7) // 8), n_out),
    )


class Point(nn.Module):
    """A single parameter vector ``x``; the loss is ``objective(x)`` (quadratics and 2-D surfaces)."""

    def __init__(self, start: Tensor, objective: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.x = nn.Parameter(start.detach().clone())
        self.objective = objective

    def forward(self) -> Tensor:
        return self.objective(self.x)


class Quadratic:
    """``f(x) = ½ xᵀ A x`` with ``A = Q diag(λ) Qᵀ``, λ log-spaced in [λmin, λmax], Q a fixed rotation.

    Gradient descent contracts each eigen-direction by ``|1 - η λᵢ|`` per step; the worst factor is
    smallest at ``η* = 2 / (λmin + λmax)``, where it equals ``(κ - 1) / (κ + 1)`` with ``κ = λmax/λmin``.
    """

    def __init__(self, dim: int, lam_min: float, lam_max: float, rotation_seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(rotation_seed)
        q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen, dtype=torch.float64))
        lam = lam_min * (lam_max / lam_min) ** torch.linspace(0.0, 1.0, dim, dtype=torch.float64)
        self.eigenvalues = lam
        self.matrix = ((q * lam) @ q.T).to(torch.float32)
        self.dim = dim

    @property
    def best_gd_lr(self) -> float:
        lam = self.eigenvalues
        return float(2.0 / (lam.min() + lam.max()))

    def __call__(self, x: Tensor) -> Tensor:
        return 0.5 * (x @ (self.matrix @ x))
