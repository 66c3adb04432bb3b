"""``optimlab race``: race optimizers on a surface and write a PNG, GIF or MP4 (format from the extension).

    optimlab race --surface beale --optimizers sgd,momentum,nag,adagrad,rmsprop,adadelta,adam,nadam \\
        --steps 300 --tune --out race.gif
"""

from __future__ import annotations

import argparse
import sys

from optimlab.lab import racers, rendering, surfaces
from optimlab.lab.racing import race


def parse_pair(text: str, argname: str = "--start") -> tuple[float, float]:
    """``"x,y"`` as two floats."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"Invalid {argname}: {text!r}; allowed: two numbers 'x,y' "
                         f"(write {argname}=-1,2 when x is negative)") from None


def parse_lrs(items: list[str] | None) -> dict[str, float]:
    """``["adam=0.1", "sgd=0.01,nag=0.02"]`` as ``{"adam": 0.1, ...}``."""
    out: dict[str, float] = {}
    for item in items or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, value = part.partition("=")
            try:
                if not sep or not name.strip():
                    raise ValueError
                lr = float(value)
            except ValueError:
                raise ValueError(f"Invalid --lr: {part!r}; allowed: NAME=LR, e.g. adam=0.1 "
                                 "(repeat --lr or separate with commas)") from None
            out[name.strip()] = racers.check_lr(lr, name.strip())
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--surface", default="beale", help=f"one of: {', '.join(surfaces.names())} (default beale)")
    parser.add_argument("--optimizers", default=",".join(racers.SEED_EIGHT),
                        help="comma-separated registry names (default: the seed's eight)")
    parser.add_argument("--steps", type=int, default=300, help="step budget, also used for tuning (default 300)")
    parser.add_argument("--out", default="race.gif", help="output file: .gif, .mp4 or .png (default race.gif)")
    parser.add_argument("--start", help="start point 'x,y' (default: the surface's); use --start=-1,2 for negative x")
    parser.add_argument("--lr", action="append", metavar="NAME=LR",
                        help="learning rate for one optimizer, e.g. adam=0.1 (repeatable or comma-separated)")
    parser.add_argument("--tune", action="store_true",
                        help="choose each remaining lr by final loss on this surface and budget (registry grid)")
    parser.add_argument("--clip", type=float, help="clip the gradient norm to this value (shown in the title)")
    parser.add_argument("--fps", type=float, default=rendering.DEFAULT_FPS, help=f"frames per second (default {rendering.DEFAULT_FPS:g})")
    parser.add_argument("--frames", type=int, help=f"animation frames (default min(steps+1, {rendering.DEFAULT_FRAMES}))")
    parser.add_argument("--size", default=f"{rendering.DEFAULT_SIZE[0]}x{rendering.DEFAULT_SIZE[1]}",
                        help="picture size WxH in pixels (default 1000x600)")
    parser.add_argument("--3d", dest="three_d", action="store_true", help="draw the surface in 3-D")
    parser.add_argument("--no-cache", action="store_true", help="recompute instead of reusing cached trajectories")


def parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    try:
        if not sep:
            raise ValueError
        return int(w), int(h)
    except ValueError:
        raise ValueError(f"Invalid --size: {text!r}; allowed: WxH in pixels, e.g. 1000x600") from None


def run(args: argparse.Namespace) -> int:
    # check everything cheap before computing anything
    rendering.check_format(args.out)
    size = rendering.check_size(parse_size(args.size))
    rendering.check_fps(args.fps)
    if args.frames is not None:
        rendering.frame_steps(max(args.steps, 1), args.frames)
    surface = surfaces.get(args.surface)
    start = parse_pair(args.start) if args.start is not None else None
    result = race(surface, args.optimizers, steps=args.steps, lrs=parse_lrs(args.lr), tune=args.tune,
                  start=start, clip=args.clip, cache=not args.no_cache)
    print(result.title())
    print(result.table())
    if any(r.lr_source == "default" for r in result.runs):
        print("note: 'default' lrs are each optimizer's own default, not chosen for this surface; "
              "--tune picks them fairly on the same surface and budget")
    path = rendering.render(result, args.out, fps=args.fps, size=size, three_d=args.three_d, frames=args.frames,
                         progress=sys.stderr.isatty())
    print(f"wrote {path}")
    return 0
