"""``optimlab tune``: table and JSON on success; clear errors, exit 2 and no files on bad input."""

from __future__ import annotations

import json

import pytest

from optimlab.cli import main
from tests.tune import counting


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """The default storage is ``./.optimlab/tune.db``: run every test from its own folder."""
    monkeypatch.chdir(tmp_path)


BASE = ["tune", "--task", "quadratic", "--optimizer", "sgd", "--per-decade", "1", "--seeds", "1", "--steps", "40"]


def test_tune_prints_a_table_and_writes_json_with_best_lr(tmp_path, capsys, monkeypatch):
    calls = counting.record(monkeypatch)
    out = tmp_path / "out"
    assert main([*BASE, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "5 run here, 0 reused" in text
    assert len(calls) == len(set(calls)) == 5  # five trials, each trained once
    assert "best lr" in text and "robust range" in text and "diverged" in text
    data = json.loads((out / "tune-quadratic-sgd.json").read_text())
    assert data["best_lr"] == pytest.approx(0.1) and data["task"] == "quadratic" and data["optimizer"] == "sgd"
    assert len(data["per_lr"]) == 5 and data["diverged_trials"] == 1
    assert (out / "tune-quadratic-sgd-sensitivity.png").stat().st_size > 0
    # the default storage lies in the working folder, not in --out: the one `optimlab compare` uses too
    assert (tmp_path / ".optimlab" / "tune.db").exists() and not (out / ".optimlab").exists()
    # resumable: a second run reuses every trial and trains nothing
    calls.clear()
    assert main([*BASE, "--out", str(out)]) == 0
    assert "0 run here, 5 reused" in capsys.readouterr().out
    assert calls == []


def test_halving_and_range_test_options(tmp_path, capsys):
    assert main([*BASE, "--per-decade", "3", "--method", "halving", "--range-test", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "tune-quadratic-sgd.json").read_text())
    assert data["method"] == "halving" and data["range_test"]["suggested_lr"] > 0
    assert "LR range test suggests" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--task", "cifar"], "valid names: digits-logreg"),
    (["--optimizer", "adamm"], "valid names: sgd"),
    (["--lr-range", "0,1"], "Invalid --lr-range"),
    (["--lr-range", "1,0.1"], "Invalid --lr-range"),
    (["--lr-range=-1,1"], "Invalid --lr-range"),
    (["--lr-range", "0.1"], "Invalid --lr-range"),
    (["--lrs", ","], "Invalid --lrs"),
    (["--lrs", "abc"], "Invalid --lrs"),
    (["--lrs", "0.1,-0.1"], "Invalid --lrs"),
    (["--per-decade", "0"], "Invalid --per-decade"),
    (["--seeds", "0"], "Invalid --seeds"),
    (["--steps", "0"], "Invalid --steps"),
    (["--workers", "0"], "Invalid --workers"),
    (["--stale-after", "1"], "Invalid --stale-after"),
    (["--robust-tol=-0.5"], "Invalid --robust-tol"),
    (["--storage", "postgresql://user:secret@127.0.0.1:9/optimlab"], "Cannot open --storage"),
    (["--storage", "sqlite:////nonexistent-optimlab-dir/tune.db"], "does not exist"),
])
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main([*BASE, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optimlab tune: error: ") and message in err and "secret" not in err
    assert not out.exists()


def test_an_unwritable_output_path_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([*BASE, "--out", str(blocker / "sub")]) == 2
    assert "Invalid --out" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
