"""The shape of ``results.json`` (schema ``optimlab.compare/1``) and a checker for it.

Top level: ``schema, version, created, title, command, experiment, task, settings, optimizers, race,
figures, seconds, finding, summary, method``. Per optimizer (``optimizers[name]``): ``title, family,
best_lr, robust_range [lo, hi], diverged_trials, tuning {trials, ran, reused, lrs, seeds, study, per_lr}, runs, seeds, diverged_runs``,
the spreads ``final_train_loss, final_val_loss, val_acc, test_acc, steps_to_target, seconds_to_target,
seconds`` (each ``{mean, std, min, max, n, missing, values}``) and ``curves {train_loss, val_acc}``
(each ``{steps, mean, std, min, max, n}``).
"""

from __future__ import annotations

from typing import Any, Mapping

SCHEMA = "optimlab.compare/1"
NUM = (int, float)
OPT = type(None)

TOP = {"schema": str, "version": str, "created": str, "title": str, "command": str, "experiment": (dict, OPT),
       "task": dict, "settings": dict, "optimizers": dict, "race": (dict, OPT), "figures": list,
       "seconds": NUM, "finding": (dict, OPT), "summary": list, "method": list}
TASK = {"name": str, "description": str, "steps": int, "batch_size": (int, OPT), "target_loss": (*NUM, OPT)}
SETTINGS = {"optimizers": list, "seeds": list, "tune_seeds": list, "per_decade": int, "steps": int, "quick": bool,
            "band": str, "robust_tol": NUM}
SPREADS = ("final_train_loss", "final_val_loss", "val_acc", "test_acc", "steps_to_target", "seconds_to_target",
           "seconds")
SPREAD = {"mean": (*NUM, OPT), "std": (*NUM, OPT), "min": (*NUM, OPT), "max": (*NUM, OPT), "n": int,
          "missing": int, "values": list}
CURVE = {"steps": list, "mean": list, "std": list, "min": list, "max": list, "n": list}
OPTIMIZER = {"title": str, "family": str, "best_lr": (*NUM, OPT), "robust_range": (list, OPT),
             "diverged_trials": int, "tuning": dict, "runs": int, "seeds": list, "diverged_runs": int,
             "curves": dict, **{k: dict for k in SPREADS}}
TUNING = {"trials": int, "ran": int, "reused": int, "lrs": list, "seeds": list, "study": str, "per_lr": list}
FIGURE = {"key": str, "file": str, "title": str, "caption": str}


def _check(obj: Any, shape: Mapping[str, Any], where: str, problems: list[str]) -> None:
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected an object, got {type(obj).__name__}")
        return
    for key, types in shape.items():
        if key not in obj:
            problems.append(f"{where}.{key}: missing")
        elif not isinstance(obj[key], types) or (isinstance(obj[key], bool) and bool not in _tuple(types)):
            problems.append(f"{where}.{key}: {type(obj[key]).__name__} is not {_names(types)}")


def _tuple(types: Any) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _names(types: Any) -> str:
    return " or ".join("null" if t is OPT else t.__name__ for t in _tuple(types))


def problems(results: Any) -> list[str]:
    """Everything in ``results`` that does not match the schema (an empty list when it matches)."""
    out: list[str] = []
    _check(results, TOP, "results", out)
    if out:
        return out
    if results["schema"] != SCHEMA:
        out.append(f"results.schema: {results['schema']!r} is not {SCHEMA!r}")
    _check(results["task"], TASK, "results.task", out)
    _check(results["settings"], SETTINGS, "results.settings", out)
    if not results["optimizers"]:
        out.append("results.optimizers: empty")
    for name, r in results["optimizers"].items():
        where = f"results.optimizers.{name}"
        _check(r, OPTIMIZER, where, out)
        if not isinstance(r, dict):
            continue
        for key in SPREADS:
            if isinstance(r.get(key), dict):
                _check(r[key], SPREAD, f"{where}.{key}", out)
        if isinstance(r.get("tuning"), dict):
            _check(r["tuning"], TUNING, f"{where}.tuning", out)
        for key in ("train_loss", "val_acc"):
            if isinstance(r.get("curves"), dict):
                _check(r["curves"].get(key), CURVE, f"{where}.curves.{key}", out)
        rr = r.get("robust_range")
        if isinstance(rr, list) and not (len(rr) == 2 and all(isinstance(v, NUM) for v in rr) and rr[0] <= rr[1]):
            out.append(f"{where}.robust_range: {rr!r} is not [low, high]")
    for i, fig in enumerate(results["figures"]):
        _check(fig, FIGURE, f"results.figures[{i}]", out)
    return out


def validate(results: Any) -> None:
    """Raise ``ValueError`` listing every mismatch with the schema."""
    found = problems(results)
    if found:
        raise ValueError("results do not match schema " + SCHEMA + ": " + "; ".join(found))
