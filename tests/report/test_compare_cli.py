"""``optimlab compare`` end to end on a tiny budget: the report, its schema, resuming, bad input, atomicity."""

from __future__ import annotations

import json
import os

import pytest

from optimlab import cli
from optimlab.report import compare as compare_mod
from optimlab.report.schema import problems
from tests.report.page import parse

TINY = ["--task", "digits-logreg", "--optimizers", "sgd,adam", "--quick", "--steps", "40", "--race-steps", "20"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("lab-cache")


@pytest.fixture(autouse=True)
def _lab_cache(cache_dir, monkeypatch):
    monkeypatch.setenv("OPTIMLAB_CACHE_DIR", str(cache_dir))


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """One tuning study for the module: later runs reuse the first run's trials."""
    return f"sqlite:///{tmp_path_factory.mktemp('study') / 'tune.db'}"


@pytest.fixture(scope="module")
def report(tmp_path_factory, cache_dir, storage):
    mp = pytest.MonkeyPatch()
    mp.setenv("OPTIMLAB_CACHE_DIR", str(cache_dir))
    root = tmp_path_factory.mktemp("compare")
    out = root / "report"
    try:
        rc = cli.main(["compare", *TINY, "--out", str(out), "--storage", storage])
    finally:
        mp.undo()
    return rc, out, root


def test_compare_exits_zero_and_writes_every_file(report):
    rc, out, root = report
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.html", "results.json", "results.md", "train_loss.png", "val_acc.png", "sensitivity.png", "race.gif"])
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []
    mask = os.umask(0)
    os.umask(mask)
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o666 & ~mask}  # like any other output file


def test_page_holds_the_figures_the_race_and_the_table(report):
    _, out, _ = report
    page = parse(out / "index.html")
    srcs = [img["src"] for img in page.images]
    assert [s.split(";")[0] for s in srcs] == ["data:image/png"] * 3 + ["data:image/gif"]
    assert all(u.startswith("data:") for u in page.urls)
    assert list(page.rows) == ["sgd", "adam"]
    results = json.loads((out / "results.json").read_text())
    for name, cells in page.rows.items():
        assert cells[0] == results["optimizers"][name]["title"]
        assert cells[1] == f"{results['optimizers'][name]['best_lr']:.3g}"


def test_results_json_schema_and_values(report):
    _, out, _ = report
    results = json.loads((out / "results.json").read_text())
    assert problems(results) == []
    st = results["settings"]
    assert st["seeds"] == [1, 2, 3] and st["tune_seeds"] == [0] and st["steps"] == 40
    assert results["task"]["eval_every"] == 1
    for name, r in results["optimizers"].items():
        grid = [row["lr"] for row in r["tuning"]["per_lr"]]
        assert r["best_lr"] in grid
        lo, hi = r["robust_range"]
        assert lo <= r["best_lr"] <= hi
        assert r["runs"] == 3 and r["seeds"] == [1, 2, 3]
        assert r["final_train_loss"]["n"] + r["final_train_loss"]["missing"] == 3
        assert 0.0 <= r["test_acc"]["mean"] <= 1.0 and r["test_acc"]["std"] >= 0.0
        # evaluation runs are sampled finely (every step at 40 steps); tuning trials at the task's default
        assert r["curves"]["train_loss"]["steps"] == list(range(41)) == r["curves"]["val_acc"]["steps"]
        assert r["tuning"]["trials"] == len(grid)
    assert {run["label"] for run in results["race"]["runs"]} == {"SGD", "Adam"}


def test_rerun_resumes_from_the_shared_storage(report, storage, monkeypatch):
    _, out, _ = report
    from optimlab.bench import tasks

    calls = []

    original = tasks.Task.run

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("seed"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tasks.Task, "run", counting)
    rc = cli.main(["compare", *TINY, "--no-race", "--out", str(out), "--storage", storage])
    assert rc == 0
    # only the 3 evaluation runs per optimizer train again; every tuning trial comes from the study
    assert sorted(calls) == [1, 1, 2, 2, 3, 3]
    assert json.loads((out / "results.json").read_text())["race"] is None


@pytest.mark.parametrize("args, message", [
    (["--task", "nope"], "valid names: digits-logreg"),
    (["--optimizers", "sgd,nope"], "valid names: sgd, momentum"),
    (["--lr-range", "1:0.1"], "the range is empty"),
    (["--lr-range", "0:1"], "not positive"),
    (["--lr-range", "abc"], "Invalid --lr-range"),
    (["--seeds", "0"], "Invalid --seeds"),
    (["--experiment", "nope"], "kingma2015-logreg"),
    (["--experiment", "kingma2015-logreg"], "an experiment fixes its task and optimizers"),
    (["--band", "wide"], "Invalid --band"),
    (["--workers", "0"], "Invalid --workers"),
    (["--storage", "postgresql://u:secret@127.0.0.1:9/none"], "Cannot open --storage"),
    (["--storage", "not-a-url"], "Invalid --storage"),
])
def test_bad_input_exits_2_with_a_clear_message_and_no_output(tmp_path, capsys, args, message):
    out = tmp_path / "reports" / "report"
    rc = cli.main(["compare", *TINY, "--out", str(out), "--storage", f"sqlite:///{tmp_path / 'tune.db'}", *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    assert "secret" not in err
    assert not out.parent.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unwritable_output_path_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    rc = cli.main(["compare", *TINY, "--out", str(blocker / "report"), "--storage", f"sqlite:///{tmp_path / 't.db'}"])
    assert rc == 2 and "Invalid --out" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # not even the storage was created


def test_failure_mid_way_leaves_no_report(report, storage, tmp_path, monkeypatch):
    out = tmp_path / "report"

    def broken(results, directory, **kwargs):
        (directory / "index.html").write_text("half a page")
        raise RuntimeError("disk full")

    monkeypatch.setattr(compare_mod, "render_html", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        cli.main(["compare", *TINY, "--no-race", "--optimizers", "adam", "--out", str(out), "--storage", storage])
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

