"""``optimlab surfaces``: list the built-in loss surfaces (domain, minima, default start, formula)."""

from __future__ import annotations

import argparse

from optimlab.lab import surfaces


def _pt(p: tuple[float, float]) -> str:
    return f"({p[0]:.4g}, {p[1]:.4g})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--names", action="store_true", help="print only the names, one per line")


def run(args: argparse.Namespace) -> int:
    if args.names:
        print("\n".join(surfaces.names()))
        return 0
    for name in surfaces.names():
        s = surfaces.get(name)
        (x0, x1), (y0, y1) = s.domain
        kind = ", minibatch gradients" if s.stochastic else ""
        print(f"{name:<12} {s.formula}{kind}")
        print(f"{'':<12} domain x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; start {_pt(s.start)}; "
              f"minima {', '.join(map(_pt, s.minima))}")
    return 0
