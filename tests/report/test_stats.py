"""Spread over seeds: scalar summaries and curve bands."""

from __future__ import annotations

import math

import pytest

from optimlab.report.stats import curve_band, summary


def test_summary_uses_the_sample_std_and_drops_non_finite_values():
    s = summary([1.0, 2.0, 3.0, float("nan"), None])
    assert s["mean"] == 2.0 and s["std"] == pytest.approx(1.0) and (s["min"], s["max"]) == (1.0, 3.0)
    assert s["n"] == 3 and s["missing"] == 2 and s["values"] == [1.0, 2.0, 3.0, None, None]


def test_summary_of_one_value_has_zero_spread_and_of_none_has_no_statistics():
    assert summary([4.0])["std"] == 0.0
    empty = summary([None, float("inf")])
    assert empty["mean"] is None and empty["n"] == 0


def test_curve_band_aligns_runs_that_stopped_early():
    band = curve_band([[0, 10, 20], [0, 10]], [[3.0, 2.0, 1.0], [5.0, float("nan")]])
    assert band["steps"] == [0, 10, 20]
    assert band["mean"] == [4.0, 2.0, 1.0]
    assert band["min"] == [3.0, 2.0, 1.0] and band["max"] == [5.0, 2.0, 1.0]
    assert band["n"] == [2, 1, 1]
    assert band["std"][0] == pytest.approx(math.sqrt(2.0)) and band["std"][1] == 0.0


def test_curve_band_skips_runs_without_the_metric():
    band = curve_band([[0, 1], [0, 1]], [None, [0.5, 0.75]])
    assert band["mean"] == [0.5, 0.75] and band["n"] == [1, 1]
    assert curve_band([[0]], [None])["steps"] == []
