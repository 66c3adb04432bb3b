"""``optimlab compare``: tune each optimizer's learning rate, train at the best one over held-out seeds,
race the same optimizers on a 2-D surface, and write the report.

The pipeline, per optimizer: ``optimlab.tune.tune`` (grid over the registry's lr range, the study kept in
``storage`` so a rerun resumes) → ``Task.run`` at the best lr for each evaluation seed → spread over seeds.
Everything is validated before the first trial; the report directory appears all at once or not at all.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import shlex
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from optimlab import __version__, registry
from optimlab.validation import LR_RANGE, Integer
from optimlab.report import experiments as _experiments
from optimlab.report import table
from optimlab.report.schema import SCHEMA, validate
from optimlab.report.figures import BANDS, curve_figure, palette_cycle
from optimlab.report.html import render_html
from optimlab.report.outdir import check_target
from optimlab.report.stats import curve_band, summary

DEFAULT_TASK = "digits-mlp"
DEFAULT_OPTIMIZERS = registry.SEED_FAMILY
DEFAULT_OUT = Path("out/compare")
RACE_SURFACE = "rosenbrock"
# Evaluation runs log this many points (tuning trials keep the task's coarser default: only their final
# validation loss counts), so curves are smooth and "steps to target" is resolved to steps/60.
EVAL_POINTS = 60


def eval_every(steps: int) -> int:
    """How often the evaluation runs evaluate: about ``EVAL_POINTS`` times per run."""
    return max(1, steps // EVAL_POINTS)


@dataclass(frozen=True)
class Settings:
    """What ``optimlab compare`` runs; :func:`resolve` checks it and fills the defaults.

    ``seeds`` evaluation seeds are drawn after the ``tune_seeds`` tuning seeds, so the reported
    numbers come from seeds the learning rate was not chosen on.
    """

    task: str = DEFAULT_TASK
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    seeds: int = 3
    tune_seeds: int = 2
    per_decade: int = 3
    lr_range: tuple[float, float] | None = None
    steps: int | None = None
    quick: bool = False
    storage: str | None = None
    workers: int = 1
    experiment: str | None = None
    race: bool = True
    race_steps: int = 300
    race_frames: int = 60
    race_size: tuple[int, int] = (800, 480)
    band: str = "minmax"
    out: Path = DEFAULT_OUT
    lr_schedule: str | None = None
    hypers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    return Integer(minimum)(name, value)


def resolve(s: Settings) -> Settings:
    """Validate every input (names, counts, lr range, band) and apply the experiment and ``quick``."""
    from optimlab.bench import tasks

    if s.experiment is not None:
        exp = _experiments.get(s.experiment)
        s = replace(s, task=exp.task, optimizers=exp.optimizers, lr_schedule=exp.lr_schedule,
                    hypers={**exp.hypers, **s.hypers})
    if s.task not in tasks.names():
        raise ValueError(f"Unknown --task {s.task!r}; valid names: {', '.join(tasks.names())}")
    if not s.optimizers:
        raise ValueError(f"Invalid --optimizers: {s.optimizers!r}; allowed: one or more of {', '.join(registry.names())}")
    names = []
    for n in s.optimizers:
        try:
            spec = registry.get(n)
        except registry.UnknownOptimizerError as exc:
            raise ValueError(f"Invalid --optimizers: {exc}") from None
        if spec.name not in names:
            names.append(spec.name)
    _positive_int("--seeds", s.seeds)
    _positive_int("--tune-seeds", s.tune_seeds)
    _positive_int("--per-decade", s.per_decade)
    _positive_int("--workers", s.workers)
    _positive_int("--race-steps", s.race_steps, minimum=2)
    if s.steps is not None:
        _positive_int("--steps", s.steps)
    if s.band not in BANDS:
        raise ValueError(f"Invalid --band: {s.band!r}; allowed: {', '.join(BANDS)}")
    if s.lr_range is not None:
        LR_RANGE("--lr-range", s.lr_range)
    return replace(s, optimizers=tuple(names))


def quick_settings(s: Settings, task) -> Settings:
    """``--quick``: a sixth of the steps, one tuning seed, one lr per decade, a short race (under a minute)."""
    steps = s.steps or max(20, task.default_steps // 6)
    return replace(s, steps=steps, tune_seeds=1, per_decade=1, race_steps=min(s.race_steps, 60), race_frames=20,
                   race_size=(640, 384))


# ---------------------------------------------------------------- aggregation

def _last(values: Sequence[float] | None) -> float | None:
    return values[-1] if values else None


def summarise_runs(spec, tuned, runs: Sequence[Any]) -> dict:
    """One optimizer's entry in ``results.json`` from its tuning result and its evaluation runs."""
    rr = tuned.robust_range
    return {
        "title": spec.title,
        "family": spec.family,
        "best_lr": tuned.best_lr,
        "robust_range": list(rr) if rr else None,
        "diverged_trials": tuned.diverged_trials,
        "tuning": {"trials": len(tuned.trials), "ran": tuned.ran, "ran_here": tuned.ran_here,
                   "reused": len(tuned.trials) - tuned.ran,
                   "lrs": list(tuned.lrs), "seeds": list(tuned.seeds), "study": tuned.study_name,
                   "per_lr": tuned.per_lr},
        "runs": len(runs),
        "seeds": [r.seed for r in runs],
        "diverged_runs": sum(bool(r.diverged) for r in runs),
        "final_train_loss": summary([r.final_train_loss for r in runs]),
        "final_val_loss": summary([r.final_val_loss for r in runs]),
        "val_acc": summary([_last(r.val_acc) for r in runs]),
        "test_acc": summary([r.test_acc for r in runs]),
        "steps_to_target": summary([r.steps_to_target for r in runs]),
        "seconds_to_target": summary([r.seconds_to_target for r in runs]),
        "seconds": summary([r.seconds for r in runs]),
        "curves": {
            "train_loss": curve_band([r.steps for r in runs], [r.train_loss for r in runs]),
            "val_acc": curve_band([r.steps for r in runs], [r.val_acc for r in runs]),
        },
    }


def summary_lines(results: Mapping[str, Any]) -> list[str]:
    """Plain sentences computed from the numbers: who ends lowest, who is most accurate, who is fastest."""
    opts = results["optimizers"]
    target = results["task"]["target_loss"]
    lines = []

    def ranked(key: str, reverse: bool = False) -> list[tuple[str, dict]]:
        have = [(n, r) for n, r in opts.items() if r[key]["mean"] is not None]
        return sorted(have, key=lambda kv: kv[1][key]["mean"], reverse=reverse)

    loss = ranked("final_train_loss")
    if loss:
        lines.append("Lowest final training loss: " + ", ".join(
            f"{r['title']} {r['final_train_loss']['mean']:.4g}" for _, r in loss) + ".")
    acc = ranked("test_acc", reverse=True)
    if acc:
        best = acc[0][1]
        lines.append(f"Best test accuracy: {best['title']} {best['test_acc']['mean']:.3f} ± {best['test_acc']['std']:.3f}"
                     + (f"; the lowest is {acc[-1][1]['title']} {acc[-1][1]['test_acc']['mean']:.3f}." if len(acc) > 1 else "."))
    reached_all = [(n, r) for n, r in opts.items() if r["runs"] and r["steps_to_target"]["n"] == r["runs"]]
    if reached_all:
        fastest = sorted(reached_all, key=lambda kv: kv[1]["steps_to_target"]["mean"])
        lines.append(f"Fastest to the target training loss {target:g}: " + ", ".join(
            f"{r['title']} {r['steps_to_target']['mean']:.0f} steps" for _, r in fastest[:3]) + ".")
    missed = [r["title"] for r in opts.values() if r["steps_to_target"]["n"] < r["runs"] or not r["runs"]]
    if missed:
        lines.append(f"Did not reach the target on every seed: {', '.join(missed)}.")
    ranges = [(r, math.log10(r["robust_range"][1] / r["robust_range"][0])) for r in opts.values()
              if r["robust_range"]]
    widest = max(ranges, key=lambda t: t[1], default=(None, 0.0))
    if widest[1] > 0:
        lines.append(f"Widest robust learning-rate range: {widest[0]['title']} "
                     f"({widest[0]['robust_range'][0]:.3g} – {widest[0]['robust_range'][1]:.3g}, {widest[1]:.2g} decades).")
    edge = [f"{r['title']} (best {r['best_lr']:.3g}, the {'highest' if r['best_lr'] == max(lrs) else 'lowest'} tried)"
            for r in opts.values() if r["best_lr"] is not None
            for lrs in [r["tuning"]["lrs"]] if lrs and r["best_lr"] in (min(lrs), max(lrs))]
    if edge:
        lines.append("Best learning rate at the edge of the search range (widen it with --lr-range): "
                     + ", ".join(edge) + ".")
    div = [f"{r['title']} ({r['diverged_trials']}/{r['tuning']['trials']})" for r in opts.values() if r["diverged_trials"]]
    if div:
        lines.append("Tuning trials that diverged (stopped early): " + ", ".join(div) + ".")
    return lines


def method_lines(results: Mapping[str, Any]) -> list[str]:
    st, task = results["settings"], results["task"]
    lines = [
        f"Learning rate tuned per optimizer on a log grid over the registry's range ({st['per_decade']} per decade), "
        f"{len(st['tune_seeds'])} seed(s) per lr ({', '.join(map(str, st['tune_seeds']))}), chosen on the final "
        "validation loss; every other hyperparameter at its default. The robust range holds the learning rates "
        f"within {st['robust_tol']:.0%} of the best.",
        f"Every run has the same budget: {task['steps']} steps, minibatch {task['batch_size']}; every optimizer "
        "starts from the same initial weights for a given seed and sees the same minibatches.",
        "A run diverges when its loss becomes non-finite or far above its start; it stops there and is counted.",
        f"Curves: mean over the evaluation seeds with a {'min–max' if st['band'] == 'minmax' else '±1 std'} band; "
        f"the whole training set and the validation set are evaluated every {task['eval_every']} step(s), which is "
        "also the resolution of the steps (and seconds) to the target loss.",
        f"Tuning trials are kept in the Optuna study storage ({st['storage_kind']}), so a rerun resumes instead of redoing them.",
    ]
    if st.get("lr_schedule"):
        lines.insert(1, f"Step-size schedule: {st['lr_schedule']}, applied in tuning and evaluation alike.")
    if results.get("race"):
        rc = results["race"]
        lines.append(f"Race: the same optimizers on the {rc['surface_title']} surface, {rc['steps']} steps each, "
                     "learning rates tuned on that surface (they differ from the task's).")
    return lines


# Settings field -> its command-line flag (booleans: the flag that turns the default around).
FLAGS = {"experiment": "--experiment", "task": "--task", "optimizers": "--optimizers", "quick": "--quick",
         "seeds": "--seeds", "tune_seeds": "--tune-seeds", "per_decade": "--per-decade", "lr_range": "--lr-range",
         "steps": "--steps", "workers": "--workers", "band": "--band", "race": "--no-race",
         "race_steps": "--race-steps", "storage": "--storage", "out": "--out"}


def command_line(s: Settings) -> str:
    """The ``optimlab compare`` command that reproduces ``s`` (flags only where they differ from the defaults)."""
    from optimlab.tune.study import mask_url

    defaults = Settings()
    parts = ["optimlab", "compare"]
    for name, flag in FLAGS.items():
        value = getattr(s, name)
        if value == getattr(defaults, name) or (s.experiment and name in ("task", "optimizers")):
            continue
        if isinstance(value, bool):
            parts.append(flag)
        elif name == "optimizers":
            parts += [flag, ",".join(value)]
        elif name == "lr_range":
            parts += [flag, f"{value[0]:g}:{value[1]:g}"]
        else:
            parts += [flag, mask_url(value) if name == "storage" else str(value)]
    return shlex.join(parts)


# ---------------------------------------------------------------- the pipeline

@dataclass
class Outcome:
    """What a compare run produced: the results dict, the report directory, the raw tuning results."""

    results: dict
    out: Path
    tuned: dict = field(default_factory=dict)


def _settings_dict(s: Settings, steps: int, storage: str, tune_seeds: Sequence[int], eval_seeds: Sequence[int]) -> dict:
    return {
        "optimizers": list(s.optimizers), "seeds": list(eval_seeds), "tune_seeds": list(tune_seeds),
        "per_decade": s.per_decade, "lr_range": list(s.lr_range) if s.lr_range else None, "steps": steps,
        "quick": s.quick, "workers": s.workers, "band": s.band, "robust_tol": ROBUST_TOL,
        "lr_schedule": _experiments.schedule_label(s.lr_schedule), "hypers": {k: dict(v) for k, v in s.hypers.items()},
        "storage_kind": storage.split(":", 1)[0], "race": s.race,
    }


ROBUST_TOL = 0.05


def _task_dict(task, steps: int) -> dict:
    return {"name": task.name, "description": task.description, "metric": task.metric, "steps": steps,
            "batch_size": task.batch_size, "target_loss": task.target_loss, "eval_every": eval_every(steps)}


def compare(settings: Settings, console=None) -> Outcome:
    """Run the whole comparison and write the report directory ``settings.out`` atomically."""
    from optimlab import tune as _tune
    from optimlab.bench import tasks
    from optimlab.report.terminal import make_console, make_progress
    from optimlab.tune.grid import resolve_lrs

    started = time.perf_counter()
    s = resolve(settings)
    task = tasks.get(s.task)
    if s.quick:
        s = quick_settings(s, task)
    steps = s.steps or task.default_steps
    grids = {n: resolve_lrs(registry.get(n), None, s.per_decade, s.lr_range) for n in s.optimizers}
    check_target(s.out)
    storage = s.storage or _tune.default_storage()
    _tune.check_storage(storage)
    tune_seeds = tuple(range(s.tune_seeds))
    eval_seeds = tuple(range(s.tune_seeds, s.tune_seeds + s.seeds))
    console = console or make_console()

    entries: dict[str, dict] = {}
    tuned: dict[str, Any] = {}
    race_result = None
    n_trials = sum(len(g) for g in grids.values()) * len(tune_seeds)
    with make_progress(console) as progress:
        bar_tune = progress.add_task("tuning learning rates", total=n_trials, note="")
        bar_train = progress.add_task(f"training at best lr ×{s.seeds} seeds", total=len(s.optimizers) * s.seeds,
                                      note="")
        bar_race = progress.add_task("race on a 2-D surface", total=1 if s.race else 0, note="")
        for name in s.optimizers:
            spec = registry.get(name)
            progress.update(bar_tune, note=f"{spec.title}: {len(grids[name])} lrs × {len(tune_seeds)} seeds")
            tr = _tune.tune(task, name, lrs=grids[name], seeds=tune_seeds, steps=steps, storage=storage,
                            workers=s.workers, robust_tol=ROBUST_TOL, hypers=s.hypers.get(name),
                            lr_schedule=s.lr_schedule)
            tuned[name] = tr
            progress.advance(bar_tune, len(grids[name]) * len(tune_seeds))
            runs = []
            for seed in eval_seeds if tr.best_lr is not None else ():
                progress.update(bar_train, note=f"{spec.title} lr={tr.best_lr:.3g} seed {seed}")
                runs.append(task.run(name, tr.best_lr, seed=seed, steps=steps, hypers=s.hypers.get(name),
                                     lr_schedule=s.lr_schedule, eval_every=eval_every(steps)))
                progress.advance(bar_train)
            if tr.best_lr is None:  # every lr diverged: nothing to evaluate
                progress.advance(bar_train, s.seeds)
            entries[name] = summarise_runs(spec, tr, runs)
        reused = sum(len(t.trials) - t.ran for t in tuned.values())
        progress.update(bar_tune, note=f"done ({reused} trials reused from the study)")
        progress.update(bar_train, note="done")
        if s.race:
            from optimlab import lab

            progress.update(bar_race, note=f"{RACE_SURFACE}, {s.race_steps} steps, tuning lrs on the surface")
            race_result = lab.race(RACE_SURFACE, list(s.optimizers), steps=s.race_steps, tune=True, cache=True)
            progress.advance(bar_race)
            progress.update(bar_race, note="done")

    exp = _experiments.get(s.experiment) if s.experiment else None
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "title": exp.title if exp else f"Optimizers compared on {task.name}",
        "command": command_line(settings),
        "experiment": ({"name": exp.name, "title": exp.title, "description": exp.description, "claim": exp.claim}
                       if exp else None),
        "task": _task_dict(task, steps),
        "settings": _settings_dict(s, steps, storage, tune_seeds, eval_seeds),
        "optimizers": entries,
        "race": race_dict(race_result, s) if race_result is not None else None,
        "figures": [],
        "seconds": 0.0,
    }
    results["finding"] = exp.finding(results, exp) if exp else None
    results["summary"] = summary_lines(results)
    results["method"] = method_lines(results)
    out = write_report(results, s.out, tuned=tuned, race_result=race_result, started=started)
    return Outcome(results=results, out=out, tuned=tuned)


def race_dict(race_result, s: Settings) -> dict:
    """The race's settings and outcome for ``results.json``: each racer's lr (tuned on the surface) and final loss."""
    return {
        "surface": RACE_SURFACE, "surface_title": race_result.surface.title, "steps": race_result.steps, "frames": s.race_frames, "size": list(s.race_size),
        "title": race_result.title(),
        "runs": [{"label": r.label, "lr": r.lr, "lr_source": r.lr_source,
                  "final_loss": r.final_loss if math.isfinite(r.final_loss) else None, "diverged_at": r.diverged_at}
                 for r in race_result.runs],
    }


FIGURES = {
    "train_loss": ("Training loss vs step", "Mean over the evaluation seeds, band: {band}; log scale; dotted line: the target loss."),
    "val_acc": ("Validation accuracy vs step", "Mean over the evaluation seeds, band: {band}."),
    "sensitivity": ("Learning-rate sensitivity (U-curves)", "Final validation loss (mean over the tuning seeds) "
                    "against the learning rate, one curve per optimizer; its minimum is the chosen lr."),
    "race": ("Race on a 2-D surface", "The same optimizers racing on the {surface} surface, each at the "
             "learning rate tuned for that surface."),
}


def write_figures(results: dict, directory: Path, *, tuned: Mapping[str, Any] | None = None, race_result=None) -> list[dict]:
    """Draw every figure into ``directory``; return the ``results["figures"]`` list (key, file, title, caption)."""
    opts = results["optimizers"]
    labels = {n: r["title"] for n, r in opts.items()}
    band = "min–max" if results["settings"]["band"] == "minmax" else "±1 std"
    figs = []

    def add(key: str, file: str, **fmt: Any) -> None:
        title, caption = FIGURES[key]
        figs.append({"key": key, "file": file, "title": title, "caption": caption.format(band=band, **fmt)})

    curve_figure({n: r["curves"]["train_loss"] for n, r in opts.items()}, labels, directory / "train_loss.png",
                 ylabel="training loss", title=f"{results['title']}: training loss", logy=True,
                 band=results["settings"]["band"], target=results["task"]["target_loss"])
    add("train_loss", "train_loss.png")
    if any(r["curves"]["val_acc"]["steps"] for r in opts.values()):
        curve_figure({n: r["curves"]["val_acc"] for n, r in opts.items()}, labels, directory / "val_acc.png",
                     ylabel="validation accuracy", title=f"{results['title']}: validation accuracy",
                     band=results["settings"]["band"])
        add("val_acc", "val_acc.png")
    if tuned:
        from optimlab import tune as _tune

        with palette_cycle():  # the U-curves in the same colours as the other figures
            _tune.sensitivity_plot([tuned[n] for n in opts if n in tuned], directory / "sensitivity.png")
        add("sensitivity", "sensitivity.png")
    if race_result is not None:
        from optimlab import lab

        race = results["race"]
        lab.render(race_result, directory / "race.gif", size=tuple(race["size"]), frames=race["frames"])
        add("race", "race.gif", surface=results["race"]["surface_title"])
    return figs


def write_report(results: dict, out: str | Path, *, tuned: Mapping[str, Any] | None = None, race_result=None,
                 started: float | None = None) -> Path:
    """Write figures, ``results.json``, ``results.md`` and ``index.html`` into ``out``, all at once."""
    from optimlab import atomic

    target = check_target(out)
    with atomic.directory(target) as tmp:
        results["figures"] = write_figures(results, tmp, tuned=tuned, race_result=race_result)
        if started is not None:
            results["seconds"] = round(time.perf_counter() - started, 2)
        validate(results)
        (tmp / "results.json").write_text(json.dumps(results, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / "results.md").write_text(table.markdown(results), encoding="utf-8")
        render_html(results, tmp)
    return target
