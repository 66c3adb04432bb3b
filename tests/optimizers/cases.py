"""Parametrisation drawn from the registry: every optimizer × every declared option variant."""

from __future__ import annotations

import pytest

from optimlab import registry

SPECS = registry.specs()
TORCH_SPECS = [s for s in SPECS if s.torch_equivalent is not None]


def _vid(v) -> str:
    return ",".join(f"{k}={v[k]}" for k in sorted(v)) or "defaults"


VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in TORCH_SPECS for v in s.variants]
SPEC_IDS = [pytest.param(s, id=s.name) for s in SPECS]
TORCH_SPEC_IDS = [pytest.param(s, id=s.name) for s in TORCH_SPECS]
DENSE_ONLY_IDS = [pytest.param(s, id=s.name) for s in SPECS if not s.capabilities.sparse]
SPARSE_VARIANTS = [pytest.param(s, v, id=f"{s.name}[{_vid(v)}]") for s in TORCH_SPECS if s.capabilities.sparse
                   for v in s.variants]
