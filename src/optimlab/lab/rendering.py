"""``render()``: a race as a PNG still, a GIF or an MP4 — the format comes from the file extension.

Animations sample the steps evenly (``frames``, default :data:`DEFAULT_FRAMES` or every step for short
races), always including the start and the last step, and hold the last frame for a moment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from optimlab.lab.racing import RaceResult

FORMATS = (".png", ".gif", ".mp4")
DEFAULT_SIZE = (1000, 600)
DEFAULT_FRAMES = 120
DEFAULT_FPS = 24.0
HOLD_S = 1.5
MIN_SIDE, MAX_SIDE = 200, 4000


def check_format(out_path: str | os.PathLike) -> str:
    suffix = Path(out_path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"Invalid output file {str(out_path)!r}: unknown extension {suffix or '(none)'!r}; "
                         f"allowed: {', '.join(FORMATS)}")
    return suffix


def check_size(size: Sequence[int]) -> tuple[int, int]:
    try:
        w, h = (int(size[0]), int(size[1]))
        ok = len(size) == 2 and (w, h) == (size[0], size[1])
    except (TypeError, ValueError, IndexError):
        ok = False
    if not ok or not all(MIN_SIDE <= v <= MAX_SIDE and v % 2 == 0 for v in (w, h)):
        raise ValueError(f"Invalid size: {size!r}; allowed: (width, height) in pixels, even integers "
                         f"in [{MIN_SIDE}, {MAX_SIDE}]")
    return w, h


def check_fps(fps: float) -> float:
    try:
        value = float(fps)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.5 <= value <= 120:
        raise ValueError(f"Invalid fps: {fps!r}; allowed: a number in [0.5, 120]")
    return value


def frame_steps(steps: int, frames: int | None = None) -> list[int]:
    """Evenly spaced steps from 0 to ``steps`` inclusive: ``frames`` of them (capped at steps + 1)."""
    n = min(steps + 1, DEFAULT_FRAMES) if frames is None else frames
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"Invalid frames: {frames!r}; allowed: an integer >= 2")
    return sorted({int(round(v)) for v in np.linspace(0, steps, min(int(n), steps + 1))})


def render(result: RaceResult, out_path: str | os.PathLike, fps: float = DEFAULT_FPS,
           size: Sequence[int] = DEFAULT_SIZE, three_d: bool = False, frames: int | None = None,
           progress: bool = False) -> Path:
    """Write ``result`` to ``out_path`` (.png, .gif or .mp4) at ``size`` pixels; returns the path.

    ``frames`` (animations): how many evenly spaced steps to show; ``progress``: a rich progress bar.
    """
    from optimlab.lab.figure import RaceFigure
    from optimlab.lab import writers

    out = Path(out_path)
    kind = check_format(out)
    size = check_size(size)
    fps = check_fps(fps)
    steps = frame_steps(result.steps, frames)
    picture = RaceFigure(result, size=size, three_d=bool(three_d))
    try:
        if kind == ".png":
            writers.write_png(out, _fit(picture.draw(result.steps), size))
            return out

        def sequence() -> Iterator[np.ndarray]:
            for k in _progress(steps, f"rendering {out.name}", progress):
                yield _fit(picture.draw(k), size)

        if kind == ".gif":
            writers.write_gif(out, _fit(picture.draw(result.steps), size), sequence(), fps, HOLD_S)
        else:
            writers.write_mp4(out, sequence(), size, fps, HOLD_S)
    finally:
        picture.close()
    return out


def _fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pad or crop to exactly ``size`` (the canvas can be a pixel off for sizes not divisible by the dpi)."""
    w, h = size
    if frame.shape[:2] == (h, w):
        return frame
    out = np.full((h, w, 3), 255, dtype=np.uint8)
    hh, ww = min(h, frame.shape[0]), min(w, frame.shape[1])
    out[:hh, :ww] = frame[:hh, :ww]
    return out


def _progress(items: Sequence[int], label: str, show: bool) -> Iterator[int]:
    if not show:
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=len(items))
        for item in items:
            yield item
            bar.advance(task)
