"""Learning-rate tuning: keep every other hyperparameter fixed, try log-spaced learning rates, keep the best.

``tune(task, optimizer)`` sweeps the registry's lr range (about 3 per decade) over several seeds on a
benchmark task, picks the lr with the lowest mean final validation loss (a diverged run counts as
``+inf``), and reports the robust range. Every trial is a trial of an Optuna study in an RDB storage
(default: the SQLite file ``./.optimlab/tune.db``), so sweeps resume, reuse finished trials and share
work between processes and machines (see :mod:`optimlab.tune.study`).

Also: ``method="halving"`` (successive halving), :func:`range_test` (Leslie Smith's LR range test) and
:func:`sensitivity_plot` (final validation loss vs lr, one U-curve per optimizer).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from optimlab.validation import Integer
from optimlab.tune.study import DEFAULT_STALE_AFTER, check_storage, mask_url, sqlite_url

METHODS = ("grid", "halving")


@dataclass
class TuneResult:
    """The outcome of a sweep.

    ``per_lr``: one entry per lr tried (ascending): ``lr``, ``mean_val_loss`` (``None`` when a seed
    diverged, i.e. ``+inf``), ``std_val_loss``, ``mean_val_acc``, ``diverged_seeds``, ``trials``,
    ``steps`` (and ``rung`` for halving). ``trials``: one dict per trial (lr, seed, steps, val_loss,
    train_loss, val_acc, diverged, seconds, Optuna trial number and key). ``best_lr`` is ``None`` and
    ``robust_range`` is ``None`` only when every lr diverged. ``ran``: trials that finished during
    this call (the others were reused from the study); ``ran_here``: those of them run by this call's
    own workers (the rest by other processes or machines sharing the study).
    """

    task: str
    optimizer: str
    best_lr: float | None
    robust_range: tuple[float, float] | None
    per_lr: list[dict[str, Any]]
    trials: list[dict[str, Any]]
    diverged_trials: int
    method: str = "grid"
    steps: int = 0
    seeds: tuple[int, ...] = ()
    lrs: list[float] = field(default_factory=list)
    hypers: dict[str, Any] = field(default_factory=dict)
    lr_schedule: str | None = None
    robust_tol: float = 0.05
    study_name: str = ""
    storage: str = ""
    ran: int = 0
    ran_here: int = 0
    seconds: float = 0.0

    @property
    def best(self) -> dict[str, Any] | None:
        """The ``per_lr`` entry of the best lr."""
        return next((e for e in self.per_lr if e["lr"] == self.best_lr and e["steps"] == self.steps), None)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["robust_range"] = list(self.robust_range) if self.robust_range else None
        out["seeds"] = list(self.seeds)
        out["reused"] = len(self.trials) - self.ran
        return out


def _resolve_task(task):
    from optimlab.bench import tasks

    return tasks.get(task) if isinstance(task, str) else task


def _check_int(name: str, value: Any, minimum: int) -> int:
    return Integer(minimum)(name, value)


def _check_hypers(spec, hypers: Mapping[str, Any] | None) -> dict[str, Any]:
    hypers = dict(hypers or {})
    known = {h.name for h in spec.hypers} - {"lr"}
    unknown = sorted(set(hypers) - known)
    if unknown:
        raise ValueError(f"Invalid hypers for {spec.name}: {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
                         " (lr is what is tuned)")
    spec.validate(hypers)
    return hypers


def default_storage(directory: str | os.PathLike | None = None) -> str:
    """The embedded default: ``sqlite:///<directory or cwd>/.optimlab/tune.db`` (the folder is created)."""
    folder = Path(directory or os.getcwd()) / ".optimlab"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"Cannot create the tuning storage folder {str(folder)!r}: {exc.strerror}") from None
    return sqlite_url(folder / "tune.db")


def tune(
    task,
    optimizer: str,
    lrs: Sequence[float] | None = None,
    per_decade: int = 3,
    lr_range: Sequence[float] | None = None,
    seeds: Sequence[int] = (0, 1),
    steps: int | None = None,
    method: str = "grid",
    storage: str | None = None,
    study_name: str | None = None,
    workers: int = 1,
    robust_tol: float = 0.05,
    progress: bool = False,
    hypers: Mapping[str, Any] | None = None,
    lr_schedule: str | None = None,
    stale_after: int = DEFAULT_STALE_AFTER,
    eta: int = 3,
) -> TuneResult:
    """Tune ``optimizer``'s learning rate on ``task`` (a :class:`~optimlab.bench.tasks.Task` or its name).

    Learning rates: ``lrs`` if given, else a log grid over ``lr_range`` (default: the registry's)
    with ``per_decade`` points per decade. Each lr runs every seed in ``seeds`` for ``steps`` steps
    (default: the task's) with ``hypers`` fixed. ``method="halving"`` runs successive halving with
    reduction factor ``eta``. ``storage``: an Optuna RDB URL (default :func:`default_storage`);
    ``study_name`` defaults to ``optimlab/<task>/<optimizer>``; ``workers`` processes share it.
    ``lr_schedule``: ``None`` or a schedule name from :data:`optimlab.bench.tasks.SCHEDULES`.
    ``stale_after``: seconds without a heartbeat after which a running trial is taken as dead.
    """
    from optimlab import registry
    from optimlab.bench import tasks
    from optimlab.tune import grid, halving, study

    started = time.perf_counter()
    task = _resolve_task(task)
    spec = registry.get(optimizer)
    grid_lrs = grid.resolve_lrs(spec, lrs, per_decade, lr_range)
    seeds = tuple(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"Invalid seeds: {seeds!r}; allowed: distinct integers >= 0, at least one")
    steps = task.default_steps if steps is None else _check_int("steps", steps, 1)
    if method not in METHODS:
        raise ValueError(f"Invalid method: {method!r}; allowed: {', '.join(METHODS)}")
    _check_int("workers", workers, 1)
    if not (isinstance(robust_tol, (int, float)) and math.isfinite(robust_tol) and robust_tol >= 0):
        raise ValueError(f"Invalid robust_tol: {robust_tol!r}; allowed: a finite number >= 0")
    if lr_schedule is not None and lr_schedule not in tasks.SCHEDULES:
        raise ValueError(f"Invalid lr_schedule: {lr_schedule!r}; allowed: None or one of {', '.join(tasks.SCHEDULES)}")
    hypers = _check_hypers(spec, hypers)
    url = storage or default_storage()
    name = study_name or f"optimlab/{task.name}/{spec.name}"
    check_storage(url)
    hyper_key = study.canonical_hypers(hypers)

    bar = _Progress(progress, f"{spec.name} on {task.name}")
    records: list[dict[str, Any]] = []
    ran = ran_here = 0

    def evaluate(lr_list: Sequence[float], budget: int) -> list[dict[str, Any]]:
        nonlocal ran, ran_here
        plan = [study.TrialSpec(task.name, spec.name, lr, seed, budget, hyper_key, lr_schedule)
                for lr in lr_list for seed in seeds]
        bar.phase(len(plan), f"{len(lr_list)} lrs x {len(seeds)} seeds, {budget} steps")
        out = study.run_plan(url, name, plan, workers, stale_after, bar.update)
        ran += out["ran"]
        ran_here += out["ran_here"]
        phase = [grid.trial_record(out["trials"][s.key]) for s in plan]
        records.extend(phase)
        return grid.summarise(phase)

    with bar:
        if method == "grid":
            final = per_lr = evaluate(grid_lrs, steps)
        else:
            final, per_lr = halving.successive_halving(grid_lrs, steps, evaluate, eta=eta)
    i = grid.best_index(final)
    return TuneResult(
        task=task.name, optimizer=spec.name, best_lr=final[i]["lr"] if i is not None else None,
        robust_range=grid.robust_range(final, robust_tol), per_lr=per_lr, trials=records,
        diverged_trials=sum(1 for r in records if r["diverged"]), method=method, steps=steps, seeds=seeds,
        lrs=grid_lrs, hypers=hypers, lr_schedule=lr_schedule, robust_tol=float(robust_tol), study_name=name,
        storage=mask_url(url), ran=ran, ran_here=ran_here, seconds=time.perf_counter() - started,
    )


class _Progress:
    """A rich progress bar over trials (a no-op when disabled)."""

    def __init__(self, enabled: bool, title: str) -> None:
        self.enabled, self.title = enabled, title
        self._bar = self._task = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def phase(self, total: int, note: str) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task(f"{self.title}: {note}", total=total)

    def update(self, done: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done)


def range_test(task, optimizer: str, lr_min: float = 1e-6, lr_max: float = 10.0, steps: int = 100, **kwargs):
    """Leslie Smith's LR range test; see :func:`optimlab.tune.lr_range_test.range_test`."""
    from optimlab.tune.lr_range_test import range_test as _range_test

    return _range_test(task, optimizer, lr_min, lr_max, steps, **kwargs)


def sensitivity_plot(results: Sequence[TuneResult], path) -> Path:
    """Final validation loss vs lr, one U-curve per optimizer; see :mod:`optimlab.tune.plot`."""
    from optimlab.tune.plot import sensitivity_plot as _plot

    return _plot(results, path)


__all__ = ["METHODS", "TuneResult", "check_storage", "default_storage", "range_test", "sensitivity_plot", "tune"]
