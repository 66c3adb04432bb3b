"""``optimlab compare --experiment kingma2015-logreg`` end to end on a tiny budget (real MNIST digits)."""

from __future__ import annotations

import json

from optimlab import cli
from optimlab.report import experiments
from optimlab.report.schema import problems
from tests.report import recompute


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
    # the verdict the experiment's rule gives on these numbers: Adam and NAG within 20% of each other
    # (similar), Adagrad's mean final training loss above both by more than 5% (both ahead)
    exp = experiments.get("kingma2015-logreg")
    assert (exp.similar_tol, exp.ahead_margin) == (0.2, 0.05)
    adam, nag, adagrad = (results["optimizers"][n]["final_train_loss"]["mean"] for n in ("adam", "nag", "adagrad"))
    similar = abs(adam / nag - 1) <= 0.2
    ahead = adagrad > 1.05 * adam and adagrad > 1.05 * nag
    verdict = "reproduced" if similar and ahead else "partial" if similar or ahead else "refuted"
    assert (finding["similar"], finding["ahead"], finding["verdict"]) == (similar, ahead, verdict)
    assert finding["sentences"][-1] == {"reproduced": "Verdict: the finding is reproduced.",
                                        "partial": "Verdict: the finding is only partly reproduced.",
                                        "refuted": "Verdict: the finding is not reproduced here."}[verdict]
    # and those numbers are the runs' own: each optimizer tuned, then run at its stated lr, with the α/√t
    # schedule in both
    assert recompute.schedule(results) == "inv_sqrt"
    for name in results["optimizers"]:
        recompute.check_tuning_table(results, name)
        recompute.check_evaluation_runs(results, name)
    for name, r in results["optimizers"].items():
        assert finding["final_train_loss"][name] == r["final_train_loss"]["mean"]
        assert f"{r['final_train_loss']['mean']:.4g} for {r['title']}" in finding["sentences"][0]
    page = (out / "index.html").read_text()
    assert 'id="finding"' in page and finding["sentences"][-1] in page
    assert "Kingma &amp; Ba (2015)" in page
