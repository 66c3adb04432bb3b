"""Named experiments: the finding is computed from the numbers, and the verdict follows them."""

from __future__ import annotations

import pytest

from optimlab.report import experiments
from tests.report import synthetic

KINGMA = experiments.get("kingma2015-logreg")


def _results(adam_rate: float, nag_rate: float, adagrad_rate: float) -> dict:
    return synthetic.results({"adam": synthetic.entry("Adam", adam_rate, 0.1),
                              "nag": synthetic.entry("NAG", nag_rate, 0.1),
                              "adagrad": synthetic.entry("Adagrad", adagrad_rate, 0.1)})


def test_kingma_setting_is_the_papers():
    assert KINGMA.task == "mnist5k-logreg"
    assert set(KINGMA.optimizers) == {"adam", "nag", "adagrad"}
    assert KINGMA.lr_schedule is not None


@pytest.mark.parametrize("rates, verdict", [
    ((1.0, 1.0, 0.3), "reproduced"),   # Adam = NAG, both ahead of Adagrad
    ((1.0, 0.2, 0.1), "partial"),      # Adam far ahead of NAG, both ahead of Adagrad
    ((0.3, 0.3, 1.0), "partial"),      # Adam = NAG, but Adagrad ahead
    ((1.0, 0.2, 3.0), "refuted"),
    ((1.0, 0.2, 0.5), "refuted"),      # Adagrad between them: ahead of one only, and Adam far ahead of NAG
])
def test_verdict_follows_the_final_losses(rates, verdict):
    res = _results(*rates)
    found = KINGMA.finding(res, KINGMA)
    assert found["verdict"] == verdict
    losses = found["final_train_loss"]
    assert losses["adam"] == pytest.approx(res["optimizers"]["adam"]["final_train_loss"]["mean"])
    text = " ".join(found["sentences"])
    assert f"{losses['adagrad']:.4g} for Adagrad" in text
    assert "Steps to the target training loss 0.3" in text


def test_a_diverged_optimizer_cannot_confirm_the_claim():
    res = _results(1.0, 1.0, 0.3)
    res["optimizers"]["nag"]["final_train_loss"]["mean"] = None
    assert KINGMA.finding(res, KINGMA)["verdict"] == "refuted"


def test_unknown_experiment_lists_the_valid_names():
    with pytest.raises(ValueError, match="kingma2015-logreg"):
        experiments.get("nope")


def test_speed_is_measured_as_steps_to_the_other_final_loss():
    res = _results(2.0, 1.0, 0.3)
    nag_final = res["optimizers"]["nag"]["final_train_loss"]["mean"]
    t = experiments.steps_to_level(res["optimizers"]["adam"]["curves"]["train_loss"], nag_final)
    assert t is not None and 0 < t < 100
    curve = res["optimizers"]["adam"]["curves"]["train_loss"]
    before = curve["steps"].index(t) - 1
    assert curve["mean"][before] > nag_final >= curve["mean"][before + 1]
    text = " ".join(KINGMA.finding(res, KINGMA)["sentences"])
    assert f"Adam reaches NAG's final loss {nag_final:.4g} at step {t} of 100" in text
