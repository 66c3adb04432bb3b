"""``optimlab bench step``: time one optimizer step against torch.optim and the memory roofline."""

from __future__ import annotations

import argparse
import shlex
import sys

from optimlab import registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    step = sub.add_parser("step", help="step-only timing: optimlab vs torch.optim foreach/fused vs the roofline",
                          description="Step-only timing on synthetic parameters (threads pinned to 1).")
    step.add_argument("--optimizers", default=None,
                      help=f"comma-separated registry names (default: all: {','.join(registry.names())})")
    step.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    step.add_argument("--sizes", default=None, help="comma-separated size sets (default: all of the mode's)")
    step.add_argument("--reps", type=int, default=20, help="timed steps per contender; the median is reported")
    step.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    step.add_argument("--device", default="cpu",
                      help="cpu (numba kernels), or cuda / cuda:N (Triton kernels, CUDA-event timing) (default: cpu)")
    step.add_argument("--no-first-step", action="store_true", help="skip the cold/warm kernel-cache subprocesses")
    step.add_argument("--small-only", action="store_true",
                      help="only the small-model table (one 2-element tensor, a 64-64-10 MLP, 20x1K) vs torch.optim's "
                           "default")
    step.add_argument("--json", default="out/bench-step.json", help="where to write the results (JSON; default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from optimlab.bench.step import run_benchmark

    names = [n.strip() for n in args.optimizers.split(",") if n.strip()] if args.optimizers else None
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()] if args.sizes else None
    run_benchmark(names, quick=args.quick, reps=args.reps, warmup=args.warmup, sizes=[] if args.small_only else sizes,
                  first_step=not (args.no_first_step or args.small_only), out=args.json, device=args.device,
                  command="optimlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0
