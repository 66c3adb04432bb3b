"""``optimlab compare`` end to end on a tiny budget: the report, its schema, resuming, bad input, atomicity."""

from __future__ import annotations

import json
import os

import pytest

from optimlab import cli
from optimlab.report import compare as compare_mod
from optimlab.report import table
from optimlab.report.schema import problems
from tests.report import recompute
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


@pytest.fixture(scope="module")
def results(report):
    """``results.json`` as the first run wrote it (the rerun test replaces the report without a race)."""
    return json.loads((report[1] / "results.json").read_text())


def test_compare_exits_zero_and_writes_every_file(report):
    rc, out, root = report
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.html", "results.json", "results.md", "train_loss.png", "val_acc.png", "sensitivity.png", "race.gif"])
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []
    mask = os.umask(0)
    os.umask(mask)
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o666 & ~mask}  # like any other output file


def test_page_holds_the_figures_the_race_and_the_table(report, results):
    _, out, _ = report
    page = parse(out / "index.html")
    srcs = [img["src"] for img in page.images]
    assert [s.split(";")[0] for s in srcs] == ["data:image/png"] * 3 + ["data:image/gif"]
    assert all(u.startswith("data:") for u in page.urls)
    assert list(page.rows) == ["sgd", "adam"]
    md = (out / "results.md").read_text().splitlines()[2:]
    for (name, cells), md_line in zip(page.rows.items(), md):
        r = results["optimizers"][name]
        assert cells == table.row(r) and md_line == "| " + " | ".join(cells) + " |"
        column = dict(zip(table.COLUMNS, cells))  # the numbers, as the page must print them
        assert column["optimizer"] == r["title"] and column["best lr"] == f"{r['best_lr']:.3g}"
        assert column["final train loss"] == f"{r['final_train_loss']['mean']:.4g} ± {r['final_train_loss']['std']:.2g}"
        assert column["test acc"] == f"{r['test_acc']['mean']:.3f} ± {r['test_acc']['std']:.3f}"


def test_results_json_schema_and_values(results):
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


def test_reported_numbers_are_those_of_the_runs_they_describe(results):
    """Rerun each optimizer at the best lr the report states, on each stated evaluation seed (through
    the task API the report uses): every per-seed value, mean and curve must be the report's, exactly
    (the runs are deterministic); rerun the tuning grid: the stated best lr must be the one with the
    lowest mean validation loss in the stated tuning table, which must be the trials' own numbers."""
    assert list(results["optimizers"]) == ["sgd", "adam"]
    for name in results["optimizers"]:
        recompute.check_tuning_table(results, name)
        recompute.check_evaluation_runs(results, name)


def test_the_race_states_the_final_losses_of_its_runs(results):
    from optimlab import lab

    race = results["race"]
    lrs = {r["label"]: r["lr"] for r in race["runs"]}
    again = lab.race(race["surface"], results["settings"]["optimizers"], steps=race["steps"], lrs=lrs, cache=False)
    assert [(r.label, r.final_loss, r.diverged_at) for r in again.runs] == [
        (r["label"], r["final_loss"], r["diverged_at"]) for r in race["runs"]]


def test_rerun_resumes_from_the_shared_storage(report, results, storage, monkeypatch):
    _, out, _ = report
    from optimlab.bench import tasks

    calls = []

    original = tasks.Task.run

    def counting(self, optimizer, lr, *args, **kwargs):
        calls.append((optimizer, lr, kwargs.get("seed")))
        return original(self, optimizer, lr, *args, **kwargs)

    monkeypatch.setattr(tasks.Task, "run", counting)
    rc = cli.main(["compare", *TINY, "--no-race", "--out", str(out), "--storage", storage])
    assert rc == 0
    # only the 3 evaluation runs per optimizer train again, at the best lr; every tuning trial comes from the study
    best = {n: r["best_lr"] for n, r in results["optimizers"].items()}
    assert sorted(calls) == sorted((n, best[n], seed) for n in best for seed in (1, 2, 3))
    again = json.loads((out / "results.json").read_text())
    assert again["race"] is None
    for name, r in again["optimizers"].items():
        assert r["tuning"]["ran"] == 0 and r["tuning"]["reused"] == r["tuning"]["trials"]
        first = results["optimizers"][name]
        assert r["tuning"]["per_lr"] == first["tuning"]["per_lr"]  # the same trials, not new ones
        for key in recompute.PER_SEED:  # deterministic: the same numbers as the first run
            assert r[key] == first[key], key


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

