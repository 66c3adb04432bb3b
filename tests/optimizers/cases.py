"""Parametrisation drawn from the registry and the tests' reference catalogue: every optimizer × every variant."""

from __future__ import annotations

import pytest

from optimlab import registry
from tests.catalogue import CATALOGUE

SPECS = registry.specs()
TORCH_SPECS = [s for s in SPECS if CATALOGUE[s.name].make is not None]


def reference(spec):
    """The implementation ``spec``'s optimizer must equal."""
    return CATALOGUE[spec.name].make


def variants(spec):
    return CATALOGUE[spec.name].variants


def _vid(v) -> str:
    return ",".join(f"{k}={v[k]}" for k in sorted(v)) or "defaults"


VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in TORCH_SPECS for v in variants(s)]
SPEC_IDS = [pytest.param(s, id=s.name) for s in SPECS]
TORCH_SPEC_IDS = [pytest.param(s, id=s.name) for s in TORCH_SPECS]
DENSE_ONLY_IDS = [pytest.param(s, id=s.name) for s in SPECS if not s.capabilities.sparse]
SPARSE_VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in TORCH_SPECS if s.capabilities.sparse
                   for v in variants(s)]
