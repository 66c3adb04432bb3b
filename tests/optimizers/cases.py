"""Parametrisation drawn from the registry and the tests' reference catalogue: every optimizer × every variant."""

from __future__ import annotations

import pytest

from optimlab import registry
from tests.catalogue import CATALOGUE

SPECS = registry.specs()
REFERENCE_SPECS = [s for s in SPECS if CATALOGUE[s.name].make is not None]
"""Optimizers with a reference implementation installed (torch.optim, or a package of the test extra)."""
TORCH_SPECS = [s for s in REFERENCE_SPECS if CATALOGUE[s.name].is_torch]
"""Optimizers whose reference is a torch.optim class."""


def reference(spec):
    """The implementation ``spec``'s optimizer must equal."""
    return CATALOGUE[spec.name].make


def reference_path(spec, impl: str) -> dict:
    """The reference's arguments for the path optimlab's ``impl`` equals bit for bit (torch's foreach flag)."""
    return CATALOGUE[spec.name].path(impl)


def variants(spec):
    return CATALOGUE[spec.name].variants


def _vid(v) -> str:
    return ",".join(f"{k}={v[k]}" for k in sorted(v)) or "defaults"


VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in REFERENCE_SPECS for v in variants(s)]
SPEC_IDS = [pytest.param(s, id=s.name) for s in SPECS]
REFERENCE_SPEC_IDS = [pytest.param(s, id=s.name) for s in REFERENCE_SPECS]
TORCH_SPEC_IDS = [pytest.param(s, id=s.name) for s in TORCH_SPECS]
DENSE_ONLY_IDS = [pytest.param(s, id=s.name) for s in SPECS if not s.capabilities.sparse]
SPARSE_VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in REFERENCE_SPECS if s.capabilities.sparse
                   for v in variants(s)]


def visible_lr(spec) -> float:
    """A learning rate whose steps every storage dtype can show: the default, or 1e-2 where the default is
    smaller (Lion's 1e-4 steps vanish in fp16 and bf16 values near 1)."""
    return max(spec.defaults["lr"], 1e-2)
