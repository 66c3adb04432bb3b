"""Surfaces: every listed minimum is a stationary point, names and validation, stochastic batches."""

from __future__ import annotations

import math

import pytest
import torch

from optimlab.lab import surfaces
from optimlab.lab.surfaces import Surface


@pytest.mark.parametrize("name", surfaces.names())
def test_each_listed_minimum_has_zero_gradient(name):
    s = surfaces.get(name)
    assert s.minima, f"{name} lists no minimum"
    for m in s.minima:
        p = torch.tensor(m, dtype=torch.float64, requires_grad=True)
        s.f(p).backward()
        assert p.grad.abs().max() < 1e-9, (name, m, p.grad)
        assert s.contains(m) and s.contains(s.start)


@pytest.mark.parametrize("name", surfaces.names())
def test_minima_are_the_lowest_points_of_the_domain(name):
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.domain
    xx, yy = torch.meshgrid(torch.linspace(x0, x1, 101, dtype=torch.float64),
                            torch.linspace(y0, y1, 101, dtype=torch.float64), indexing="ij")
    grid_min = float(s.f(torch.stack([xx, yy], -1)).min())
    assert s.f_star() <= grid_min + 1e-12


def test_textbook_values():
    assert surfaces.get("beale").minima == ((3.0, 0.5),)
    assert surfaces.get("rosenbrock").minima == ((1.0, 1.0),)
    assert len(surfaces.get("himmelblau").minima) == 4
    for name in ("beale", "rosenbrock", "rastrigin", "himmelblau", "booth", "ackley"):
        assert surfaces.get(name).f_star() == pytest.approx(0.0, abs=1e-20)


def test_ackley_gradient_is_finite_and_zero_at_the_origin():
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    surfaces.get("ackley").f(p).backward()
    assert torch.isfinite(p.grad).all() and p.grad.abs().max() == 0


def test_f_is_vectorised_over_leading_dimensions():
    s = surfaces.get("rosenbrock")
    pts = torch.tensor([[[0.0, 0.0], [1.0, 1.0]], [[-1.0, 1.0], [2.0, 0.5]]], dtype=torch.float64)
    out = s.f(pts)
    assert out.shape == (2, 2)
    assert out[0, 0] == 1.0 and out[0, 1] == 0.0 and out[1, 0] == 4.0


def test_moons_batches_are_deterministic_and_stochastic():
    s = surfaces.get("moons")
    assert s.stochastic
    p = torch.tensor([0.3, -0.7], dtype=torch.float64)
    assert s.loss(p, 5) == s.loss(p, 5)
    assert s.loss(p, 5) != s.loss(p, 6)
    assert s.loss(p, 5) != s.f(p)


def test_unknown_surface_lists_the_valid_names():
    with pytest.raises(ValueError, match="beale.*moons"):
        surfaces.get("nope")


def test_user_surface_validation():
    f = lambda t: (t ** 2).sum(-1)  # noqa: E731
    with pytest.raises(ValueError, match="domain"):
        Surface("mine", f, domain=((1.0, -1.0), (-1.0, 1.0)), start=(0.0, 0.0))
    with pytest.raises(ValueError, match="outside"):
        Surface("mine", f, domain=((-1.0, 1.0), (-1.0, 1.0)), start=(2.0, 0.0))
    s = Surface("mine", f, domain=((-1.0, 1.0), (-1.0, 1.0)), start=(0.5, 0.5))
    assert math.isnan(s.f_star()) and s.title == "mine"


def test_cache_identity_changes_with_the_code():
    a = Surface("mine", lambda t: (t ** 2).sum(-1), domain=((-1.0, 1.0), (-1.0, 1.0)), start=(0.5, 0.5))
    b = Surface("mine", lambda t: (t ** 4).sum(-1), domain=((-1.0, 1.0), (-1.0, 1.0)), start=(0.5, 0.5))
    assert a.key != b.key
