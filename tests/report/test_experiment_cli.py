"""``optimlab compare --experiment kingma2015-logreg`` end to end on a tiny budget (real MNIST digits)."""

from __future__ import annotations

import json

from optimlab import cli
from optimlab.report.schema import problems


def test_kingma_experiment_states_a_finding_computed_from_its_results(tmp_path):
    out = tmp_path / "kingma"
    rc = cli.main(["compare", "--experiment", "kingma2015-logreg", "--quick", "--steps", "30", "--no-race",
                   "--out", str(out), "--storage", f"sqlite:///{tmp_path / 'tune.db'}"])
    assert rc == 0
    results = json.loads((out / "results.json").read_text())
    assert problems(results) == []
    assert results["task"]["name"] == "mnist5k-logreg" and results["task"]["batch_size"] == 128
    assert list(results["optimizers"]) == ["adam", "nag", "adagrad"]
    assert results["settings"]["lr_schedule"].startswith("α/√t")
    finding = results["finding"]
    assert finding["verdict"] in ("reproduced", "partial", "refuted")
    for name, r in results["optimizers"].items():
        assert finding["final_train_loss"][name] == r["final_train_loss"]["mean"]
        assert f"{r['final_train_loss']['mean']:.4g} for {r['title']}" in finding["sentences"][0]
    page = (out / "index.html").read_text()
    assert 'id="finding"' in page and finding["sentences"][-1] in page
    assert "Kingma &amp; Ba (2015)" in page
