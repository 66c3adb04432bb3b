"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest
import torch

from optimlab.rules import LoopOps


def _rounded_sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.double()).to(x.dtype) if x.dtype == torch.float32 else torch.sqrt(x)


def _sqrt_(xs):
    for x in xs:
        x.copy_(_rounded_sqrt(x))
    return xs


@pytest.fixture
def rounded_sqrt(monkeypatch):
    """The reference loop with a correctly rounded fp32 sqrt, as the fused kernels have: torch's fp32
    ``sqrt`` on CPU (MKL's vsSqrt) is off by one ulp for about a sixth of its inputs."""
    monkeypatch.setattr(LoopOps, "sqrt", staticmethod(lambda xs: [_rounded_sqrt(x) for x in xs]))
    monkeypatch.setattr(LoopOps, "sqrt_", staticmethod(_sqrt_))
