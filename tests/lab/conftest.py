"""Lab tests never touch the user's cache folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_CACHE_DIR", str(tmp_path / "cache"))
