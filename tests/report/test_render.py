"""The report from a results dict: a self-contained page with the figures and one table row per optimizer."""

from __future__ import annotations

import argparse
import base64
import json
import shlex
from pathlib import Path

import pytest

from optimlab.report import table
from optimlab.report.cli import add_arguments, settings_from_args
from optimlab.report.compare import Settings, command_line, summary_lines, write_report
from optimlab.report.figures import PALETTE, styles
from optimlab.report.html import data_uri
from optimlab.report.schema import problems, validate
from optimlab.report.terminal import SHORT, TERMINAL_COLUMNS, summary_table
from tests.report import synthetic
from tests.report.page import parse


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "report"
    res = synthetic.results()
    write_report(res, out)
    return out, res


def test_page_embeds_every_figure_as_a_data_uri(report):
    out, res = report
    page = parse(out / "index.html")
    assert [f["key"] for f in res["figures"]] == ["train_loss", "val_acc"]
    assert len(page.images) == len(res["figures"])
    for img, fig in zip(page.images, res["figures"]):
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1]) == (out / fig["file"]).read_bytes()
    assert page.styles == 1 and page.scripts == 0
    assert all(u.startswith("data:") for u in page.urls), page.urls


def test_page_table_has_one_row_per_optimizer(report):
    out, res = report
    page = parse(out / "index.html")
    assert list(page.rows) == ["adam", "sgd"]
    assert page.headers[:len(table.COLUMNS)] == list(table.COLUMNS)
    for name, cells in page.rows.items():
        assert cells == table.row(res["optimizers"][name])
    adam = dict(zip(table.COLUMNS, page.rows["adam"]))
    r = res["optimizers"]["adam"]
    assert adam["optimizer"] == "Adam" and adam["best lr"] == f"{r['best_lr']:.3g}"
    assert adam["final train loss"] == f"{r['final_train_loss']['mean']:.4g} ± {r['final_train_loss']['std']:.2g}"
    assert adam["diverged (tuning)"] == "1/10" and adam["diverged (final)"] == "0/3"


def test_page_escapes_text(report):
    out, _ = report
    text = (out / "index.html").read_text()
    assert "Synthetic &lt;comparison&gt;" in text and "Synthetic <comparison>" not in text


def test_results_json_matches_schema_and_the_page(report):
    out, res = report
    on_disk = json.loads((out / "results.json").read_text())
    assert problems(on_disk) == []
    assert on_disk == res  # every number as given, to the last bit
    page = parse(out / "index.html")
    assert {n: cells for n, cells in page.rows.items()} == {n: table.row(r) for n, r in on_disk["optimizers"].items()}
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "results.json", "results.md", "train_loss.png",
                                                     "val_acc.png"]


def test_schema_names_what_is_wrong():
    res = synthetic.results()
    del res["optimizers"]["adam"]["best_lr"]
    res["optimizers"]["sgd"]["test_acc"]["mean"] = "high"
    res["optimizers"]["sgd"]["robust_range"] = [2.0, 1.0]
    found = problems(res)
    assert "results.optimizers.adam.best_lr: missing" in found
    assert any(p.startswith("results.optimizers.sgd.test_acc.mean") for p in found)
    assert any(p.startswith("results.optimizers.sgd.robust_range") for p in found)
    with pytest.raises(ValueError, match="best_lr: missing"):
        validate(res)


def test_markdown_and_terminal_tables_have_the_same_cells(report):
    _, res = report
    md = table.markdown(res).splitlines()
    assert len(md) == 2 + len(res["optimizers"])
    assert md[2] == "| " + " | ".join(table.row(res["optimizers"]["adam"])) + " |"
    rich_table = summary_table(res)
    assert [c.header for c in rich_table.columns] == [SHORT.get(c, c) for c in TERMINAL_COLUMNS]
    assert rich_table.row_count == 2
    keep = [table.COLUMNS.index(c) for c in TERMINAL_COLUMNS]
    for i, line in enumerate(md[2:]):  # the terminal's cells are the Markdown's, in the terminal's columns
        md_cells = line.strip("| ").split(" | ")
        assert [c._cells[i] for c in rich_table.columns] == [md_cells[k] for k in keep]


def test_a_best_lr_at_the_edge_of_the_grid_is_pointed_out():
    res = synthetic.results()
    assert not any("edge of the search range" in line for line in res["summary"])
    entry = res["optimizers"]["sgd"]
    entry["best_lr"] = max(entry["tuning"]["lrs"])
    line = next(x for x in summary_lines(res) if "edge of the search range" in x)
    assert f"SGD (best {entry['best_lr']:.3g}, the highest tried)" in line


def test_unreached_target_shows_how_many_seeds_reached_it():
    res = synthetic.results({"slow": synthetic.entry("Slow", 0.2)})
    cells = table.row(res["optimizers"]["slow"])
    assert cells[table.COLUMNS.index("steps to target")] == "— (0/3)"
    assert any("Did not reach the target" in line for line in res["summary"])


def test_summary_sentences_follow_the_numbers():
    res = synthetic.results()
    assert res["summary"][0].startswith("Lowest final training loss: Adam")
    assert any(line.startswith("Fastest to the target training loss 0.3: Adam") for line in res["summary"])


def test_colours_are_colour_blind_safe_and_distinct_past_the_palette():
    names = [f"o{i}" for i in range(10)]
    st = styles(names)
    assert [st[n]["color"] for n in names[:8]] == list(PALETTE)
    pairs = {(s["color"], s["linestyle"]) for s in st.values()}
    assert len(pairs) == 10


def test_data_uri_rejects_non_images(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(ValueError, match="Invalid figure file"):
        data_uri(bad)


def test_command_line_reproduces_the_settings_and_hides_passwords():
    assert command_line(Settings()) == "optimlab compare"
    s = Settings(experiment="kingma2015-logreg", quick=True, race=False, lr_range=(1e-4, 1.0), seeds=5,
                 storage="postgresql://me:pw@db/optuna", out=Path("o"))
    line = command_line(s)
    assert line == ("optimlab compare --experiment kingma2015-logreg --quick --seeds 5 --lr-range 0.0001:1 "
                    "--no-race --storage 'postgresql://me:***@db/optuna' --out o")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = [a.replace("***", "pw") for a in shlex.split(line)[2:]]
    assert settings_from_args(parser.parse_args(argv)) == s


def test_no_widest_range_sentence_when_every_range_is_a_single_lr():
    res = synthetic.results()
    assert any(line.startswith("Widest robust learning-rate range: ") for line in res["summary"])
    for r in res["optimizers"].values():
        r["robust_range"] = [r["best_lr"], r["best_lr"]]
    assert not any(line.startswith("Widest") for line in summary_lines(res))
