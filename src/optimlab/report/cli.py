"""``optimlab compare``: tune, train and compare optimizers on a task; write an HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from optimlab.report import experiments
from optimlab.report.compare import DEFAULT_OPTIMIZERS, DEFAULT_OUT, DEFAULT_TASK, Settings

EPILOG = """\
Writes OUT/index.html (self-contained), OUT/results.json, OUT/results.md and the figures
(train_loss.png, val_acc.png, sensitivity.png, race.gif). Tuning trials are kept in the Optuna
storage that `optimlab tune` uses (default: ./.optimlab/tune.db), so a rerun, or a compare after
`optimlab tune`, reuses finished trials instead of redoing them.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--task", default=DEFAULT_TASK, help=f"task name (default: {DEFAULT_TASK})")
    parser.add_argument("--optimizers", default=",".join(DEFAULT_OPTIMIZERS),
                        help="comma-separated registry names (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=Settings.seeds,
                        help="evaluation seeds per optimizer, held out from tuning (default: %(default)s)")
    parser.add_argument("--tune-seeds", type=int, default=Settings.tune_seeds,
                        help="seeds per learning rate while tuning (default: %(default)s)")
    parser.add_argument("--per-decade", type=int, default=Settings.per_decade,
                        help="learning rates per decade in the tuning grid (default: %(default)s)")
    parser.add_argument("--lr-range", metavar="LOW:HIGH", default=None,
                        help="learning-rate search range for every optimizer (default: each one's registry range)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per run (default: the task's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report directory (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast look (under a minute): a sixth of the steps, one tuning seed, one lr per decade")
    parser.add_argument("--storage", default=None,
                        help="Optuna RDB storage URL, shared with `optimlab tune` (default: sqlite:///./.optimlab/tune.db)")
    parser.add_argument("--workers", type=int, default=1, help="tuning processes per study (default: 1)")
    parser.add_argument("--experiment", default=None,
                        help=f"a named experiment that fixes task, optimizers and schedule: {', '.join(experiments.names())}")
    parser.add_argument("--band", default=Settings.band, help="curve band: minmax or std (default: %(default)s)")
    parser.add_argument("--no-race", dest="race", action="store_false", help="skip the 2-D race animation")
    parser.add_argument("--race-steps", type=int, default=Settings.race_steps,
                        help="steps in the race animation (default: %(default)s)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    from optimlab.tune.grid import parse_lr_range

    if args.experiment is not None:
        experiments.get(args.experiment)  # an unknown name: the error lists the valid ones
    if args.experiment is not None and (args.task != DEFAULT_TASK or args.optimizers != ",".join(DEFAULT_OPTIMIZERS)):
        raise ValueError(f"Invalid --experiment {args.experiment!r} with --task/--optimizers: an experiment fixes "
                         "its task and optimizers; allowed: one or the other")
    return Settings(
        task=args.task, optimizers=tuple(n.strip() for n in args.optimizers.split(",") if n.strip()),
        seeds=args.seeds, tune_seeds=args.tune_seeds, per_decade=args.per_decade,
        lr_range=parse_lr_range(args.lr_range), steps=args.steps, quick=args.quick, storage=args.storage,
        workers=args.workers, experiment=args.experiment, race=args.race, race_steps=args.race_steps,
        band=args.band, out=args.out,
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from optimlab.report.compare import compare
    from optimlab.report.terminal import make_console, summary_table

    torch.set_num_threads(1)  # tiny models: one thread each is fastest, and the machine is shared
    console = make_console()
    outcome = compare(settings_from_args(args), console=console)
    results = outcome.results
    console.print(summary_table(results))
    if results.get("finding"):
        for line in results["finding"]["sentences"]:
            console.print(line)
    console.print(f"report: {outcome.out / 'index.html'}  ({results['seconds']:.0f} s)")
    return 0
