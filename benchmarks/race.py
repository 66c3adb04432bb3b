"""Speed of the visual lab: an 8-optimizer, 300-step race on Beale (issue 3's Speed section).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/race.py [--repeats 5]

Prints, on one thread, medians over repeats after a warm-up:

* trajectories: the 8 seed optimizers x 300 steps (optimlab, impl="reference"), run in lockstep as
  race() does; baselines measured in the same run: the same 8 runs one at a time, the same lockstep with
  impl="foreach", torch.optim's own classes for the 8, and no-op optimizers (the lab's own overhead);
* rendering: the whole GIF at the defaults (1000x600, 120 frames), and the per-frame cost of blitting
  against a full canvas redraw per frame (the usual FuncAnimation approach), measured on the same figure.
Targets: trajectories < 1 s, GIF < 20 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from optimlab import registry  # noqa: E402
from optimlab.lab import race, render, surfaces, trajectory  # noqa: E402
from optimlab.lab.figure import RaceFigure  # noqa: E402
from optimlab.lab.racers import SEED_EIGHT  # noqa: E402

STEPS = 300
LRS = {"sgd": 0.02, "momentum": 0.002, "nag": 0.005, "adagrad": 2.0, "rmsprop": 0.1, "adadelta": 5.0,
       "adam": 0.46, "nadam": 0.2}  # roughly the tuned values; speed does not depend on them much


def median_time(fn, repeats: int) -> float:
    """Median CPU seconds of this process (one thread, so one core's work; immune to other load on the
    machine); the median wall time is kept in WALL for the report."""
    fn()  # warm-up
    cpu, wall = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    WALL.append(statistics.median(wall))
    return statistics.median(cpu)


WALL: list[float] = []


class NoOp(torch.optim.Optimizer):
    """An optimizer that does nothing: what is left is the lab's own per-step cost (surface, autograd, checks)."""

    def __init__(self, params, lr: float = 0.0) -> None:
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):  # type: ignore[override]
        return None


def jobs(impl: str | None) -> list[trajectory.Job]:
    out = []
    for name in SEED_EIGHT:
        spec = registry.get(name)
        if impl is None:
            out.append(trajectory.Job(spec.reference_factory(), {"lr": LRS[name]}))
        else:
            out.append(trajectory.Job(spec.make, {"lr": LRS[name], "impl": impl}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    s = surfaces.get("beale")
    r = args.repeats
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"8 optimizers x {STEPS} steps on Beale, median of {r} after a warm-up; CPU seconds on one core "
          "(wall seconds in brackets)")

    lock = median_time(lambda: trajectory.run(s, jobs("auto"), s.start, STEPS), r)
    alone = median_time(lambda: [trajectory.run(s, [j], s.start, STEPS) for j in jobs("auto")], r)
    reference = median_time(lambda: trajectory.run(s, jobs("reference"), s.start, STEPS), r)
    foreach = median_time(lambda: trajectory.run(s, jobs("foreach"), s.start, STEPS), r)
    torch_optim = median_time(lambda: trajectory.run(s, jobs(None), s.start, STEPS), r)
    harness = median_time(lambda: trajectory.run(s, [trajectory.Job(NoOp, {})] * 8, s.start, STEPS), r)
    per_step = lock / (8 * STEPS) * 1e6
    w = WALL[:]
    print(f"trajectories, lockstep, impl=auto      : {lock:7.3f} s [{w[0]:.3f}]  ({per_step:.0f} us per optimizer step)  "
          "target < 1 s")
    print(f"  baseline: one at a time               : {alone:7.3f} s [{w[1]:.3f}]  (lockstep is {alone / lock:.2f}x faster)")
    print(f"  lockstep, impl=reference              : {reference:7.3f} s [{w[2]:.3f}]  (auto/reference time ratio "
          f"{lock / reference:.2f})")
    print(f"  lockstep, impl=foreach                : {foreach:7.3f} s [{w[3]:.3f}]  (auto/foreach time ratio "
          f"{lock / foreach:.2f})")
    print(f"  lockstep, torch.optim classes         : {torch_optim:7.3f} s [{w[4]:.3f}]  (optimlab/torch time ratio "
          f"{lock / torch_optim:.2f})")
    print(f"  lab harness alone (no-op optimizers)  : {harness:7.3f} s [{w[5]:.3f}]  (the rest is the optimizers' steps)")

    result = race(s, SEED_EIGHT, steps=STEPS, lrs=LRS, cache=False)
    with tempfile.TemporaryDirectory() as tmp:
        gif = Path(tmp) / "race.gif"
        total = median_time(lambda: render(result, gif), max(1, r // 2))
        size_kb = gif.stat().st_size / 1024
    print(f"GIF render, 1000x600, 120 frames        : {total:7.3f} s [{WALL[-1]:.3f}]  ({size_kb:.0f} KiB)  target < 20 s")

    picture = RaceFigure(result)
    ks = list(range(0, STEPS + 1, 30))
    blit = median_time(lambda: [picture.draw(k) for k in ks], r) / len(ks)

    def full_redraw() -> None:
        for k in ks:
            picture.update(k)
            picture.canvas.draw()
            picture.pixels()

    for artist in picture.update(0):
        artist.set_animated(False)
    full = median_time(full_redraw, r) / len(ks)
    print(f"per frame: blit {blit * 1e3:6.1f} ms, full redraw {full * 1e3:6.1f} ms  (blitting {full / blit:.1f}x faster)")


if __name__ == "__main__":
    main()
