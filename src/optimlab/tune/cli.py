"""``optimlab tune``: sweep an optimizer's learning rate on a task; print a table, write JSON and a plot.

Writes ``<out>/tune-<task>-<optimizer>.json`` (with ``best_lr``) and ``...-sensitivity.png``
atomically; trials live in the Optuna storage (default ``./.optimlab/tune.db``, shared with
``optimlab compare``), so a killed sweep resumes where it stopped and a repeated one reuses every
finished trial.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

from optimlab.validation import Integer


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"Invalid {what}: {text!r}; allowed: comma-separated numbers, e.g. 1e-3,1e-2") from None
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="digits-mlp", help="benchmark task (default: digits-mlp)")
    parser.add_argument("--optimizer", default="adam", help="registry name (default: adam)")
    parser.add_argument("--lrs", default=None, help="explicit learning rates, comma-separated (overrides the grid)")
    parser.add_argument("--per-decade", type=int, default=3, help="grid points per factor of 10 (default: 3)")
    parser.add_argument("--lr-range", default=None, metavar="LOW:HIGH",
                        help="grid range, e.g. 1e-4:1 (default: the optimizer's range in the registry)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per learning rate: 0..N-1 (default: 2)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per trial (default: the task's)")
    parser.add_argument("--method", choices=("grid", "halving"), default="grid",
                        help="grid: every lr at full budget; halving: successive halving (default: grid)")
    parser.add_argument("--storage", default=None,
                        help="Optuna RDB URL shared by workers and with `optimlab compare` (default: sqlite:///./.optimlab/tune.db)")
    parser.add_argument("--study-name", default=None, help="Optuna study name (default: optimlab/<task>/<optimizer>)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on the study (default: 1)")
    parser.add_argument("--robust-tol", type=float, default=0.05,
                        help="robust range: lrs within this relative loss of the best (default: 0.05)")
    parser.add_argument("--stale-after", type=int, default=30,
                        help="seconds without heartbeat before a running trial counts as dead (default: 30)")
    parser.add_argument("--range-test", action="store_true",
                        help="also run Leslie Smith's LR range test over the grid's range and print its suggestion")
    parser.add_argument("--out", default=".", help="output folder (default: current folder)")


def _check_out(out: Path) -> Path:
    """Create ``out`` if needed and prove it writable now, before any work (no partial output later)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".optimlab-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"Invalid --out: {str(out)!r} is not a writable folder ({exc.strerror or exc})") from None
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from optimlab import registry
    from optimlab.atomic import write_text
    from optimlab.bench import tasks
    from optimlab.tune import check_storage, default_storage, grid, sensitivity_plot, tune

    task = tasks.get(args.task)
    spec = registry.get(args.optimizer)
    lrs = _floats(args.lrs, "--lrs") if args.lrs is not None else None
    lr_range = grid.parse_lr_range(args.lr_range)
    try:
        grid_lrs = grid.resolve_lrs(spec, lrs, args.per_decade, lr_range)
    except ValueError as exc:
        raise ValueError(str(exc).replace("Invalid lrs", "Invalid --lrs").replace("Invalid lr_range", "Invalid --lr-range")
                         .replace("Invalid per_decade", "Invalid --per-decade")) from None
    for name, minimum in (("seeds", 1), ("steps", 1), ("workers", 1), ("stale_after", 2)):
        value = getattr(args, name)
        if value is not None:
            Integer(minimum)(f"--{name.replace('_', '-')}", value)
    if not (math.isfinite(args.robust_tol) and args.robust_tol >= 0):
        raise ValueError(f"Invalid --robust-tol: {args.robust_tol}; allowed: a finite number >= 0")
    if args.storage:
        check_storage(args.storage)  # before anything is created
    out = _check_out(Path(args.out))
    storage = args.storage or default_storage()
    torch.set_num_threads(1)

    result = tune(task, spec.name, lrs=grid_lrs, seeds=tuple(range(args.seeds)), steps=args.steps,
                  method=args.method, storage=storage, study_name=args.study_name, workers=args.workers,
                  robust_tol=args.robust_tol, progress=True, stale_after=args.stale_after)
    data = result.to_dict()
    if args.range_test:
        from optimlab.tune import range_test

        rt = range_test(task, spec.name, grid_lrs[0], grid_lrs[-1], steps=min(result.steps, 200))
        data["range_test"] = rt
    stem = f"tune-{task.name}-{spec.name}"
    json_path = write_text(out / f"{stem}.json", json.dumps(data, indent=1, allow_nan=False) + "\n")
    plot_path = sensitivity_plot([result], out / f"{stem}-sensitivity.png")
    _print_table(result, data.get("range_test"), json_path, plot_path)
    return 0


def _fmt(v, spec: str) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def _print_table(result, rt, json_path: Path, plot_path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{result.optimizer} on {result.task}: {result.steps} steps, seeds "
                        f"{', '.join(map(str, result.seeds))}, method {result.method}")
    table.add_column("lr", justify="right")
    table.add_column("val loss (mean ± sd)", justify="right")
    table.add_column("val acc", justify="right")
    table.add_column("diverged", justify="right")
    table.add_column("steps", justify="right")
    lo, hi = result.robust_range or (None, None)
    for e in result.per_lr:
        best = e["lr"] == result.best_lr and e["steps"] == result.steps
        robust = lo is not None and lo <= e["lr"] <= hi and e["steps"] == result.steps
        loss = (f"{_fmt(e['mean_val_loss'], '.4g')} ± {_fmt(e['std_val_loss'], '.2g')}"
                if e["mean_val_loss"] is not None else "diverged")
        style = "bold green" if best else ("green" if robust else ("dim" if e["mean_val_loss"] is None else ""))
        table.add_row(f"{e['lr']:.3g}" + (" *" if best else ""), loss, _fmt(e["mean_val_acc"], ".3f"),
                      f"{e['diverged_seeds']}/{e['trials']}", str(e["steps"]), style=style)
    console.print(table)
    if result.best_lr is None:
        console.print("[red]every learning rate diverged[/red]")
    else:
        console.print(f"best lr: [bold]{result.best_lr:.4g}[/bold]   robust range (within "
                      f"{result.robust_tol:.0%}): {lo:.3g} – {hi:.3g}")
    others = result.ran - result.ran_here
    shared = f", {others} by other workers on the study" if others else ""
    console.print(f"trials: {len(result.trials)} ({result.ran_here} run here{shared}, "
                  f"{len(result.trials) - result.ran} reused), "
                  f"{result.diverged_trials} diverged; {result.seconds:.1f} s; study {result.study_name!r} in "
                  f"{result.storage}")
    if rt is not None:
        console.print(f"LR range test suggests {rt['suggested_lr']:.3g} (loss lowest at {rt['min_loss_lr']:.3g})")
    console.print(f"wrote {json_path} and {plot_path}")
