"""Fixtures for the tuner tests: a fresh SQLite study per test."""

from __future__ import annotations

import pytest


@pytest.fixture
def storage_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tune.db'}"
