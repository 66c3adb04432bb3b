"""The race picture: contour (or 3-D surface) with paths, and a loss-vs-step panel, drawn for any step.

Everything static (the surface, minima, start, axes, legend, title) is drawn once into a background;
a frame restores that background and draws only the moving artists (trails, heads, loss curves, step
counter) — matplotlib blitting on the Agg canvas, so a frame costs a few milliseconds.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import torch

from optimlab.lab.racing import RaceResult

# Okabe & Ito (2008) colour-blind-safe palette, strongest contrast on a light background first.
OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")
GRID = 200
GRID_3D = 70
DPI = 100
FLOOR = 1e-16  # log panels show f - f* >= FLOOR


def style(i: int) -> tuple[str, str]:
    """Colour and marker of the ``i``-th racer (colours repeat after 8 with a different marker)."""
    return OKABE_ITO[i % len(OKABE_ITO)], MARKERS[(i + i // len(OKABE_ITO)) % len(MARKERS)]


def reference_value(result: RaceResult, z: np.ndarray) -> float:
    """f*: the value at the listed minima, else the lowest value seen on the grid or along any path."""
    f_star = result.surface.f_star()
    if math.isfinite(f_star):
        return f_star
    seen = [np.nanmin(r.losses) for r in result.runs if np.isfinite(r.losses).any()]
    return float(min([np.nanmin(z), *seen]))


def contour_levels(gap: np.ndarray, n: int, log: bool) -> np.ndarray:
    """``n`` levels of ``f - f*`` over the grid: log-spaced (for huge ranges) or linear."""
    finite = gap[np.isfinite(gap)]
    pos = finite[finite > 0]
    if log and pos.size:
        lo, hi = np.quantile(pos, 0.001), np.quantile(pos, 0.995)
        return np.geomspace(max(lo, FLOOR), max(hi, lo * 10), n)
    lo, hi = (finite.min(), np.quantile(finite, 0.995)) if finite.size else (0.0, 1.0)
    return np.linspace(lo, hi if hi > lo else lo + 1.0, n)


def surface_grid(result: RaceResult, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = result.surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    xx, yy = np.meshgrid(xs, ys)
    with torch.no_grad():
        z = result.surface.f(torch.from_numpy(np.stack([xx, yy], -1))).numpy()
    return xx, yy, z


def last_finite(path: np.ndarray) -> np.ndarray:
    """For each step k, the index of the last finite point at or before k (0 if none)."""
    ok = np.isfinite(path).all(-1)
    return np.maximum.accumulate(np.where(ok, np.arange(len(path)), 0))


class RaceFigure:
    """A figure of ``size`` pixels that can draw the race as it stands at any step."""

    def __init__(self, result: RaceResult, size: tuple[int, int] = (1000, 600), three_d: bool = False) -> None:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.result, self.three_d = result, three_d
        self.fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self._mpl = matplotlib
        xx, yy, z = surface_grid(result, GRID_3D if three_d else GRID)
        self.f_ref = reference_value(result, z)
        self.gaps = [np.maximum(r.losses - self.f_ref, FLOOR) for r in result.runs]
        self.heads = [last_finite(r.path) for r in result.runs]
        self.ax = self.fig.add_axes((0.03, 0.06, 0.56, 0.82), projection="3d") if three_d else \
            self.fig.add_axes((0.065, 0.08, 0.50, 0.80))
        self.loss_ax = self.fig.add_axes((0.665, 0.08, 0.315, 0.40))
        self._draw_surface(xx, yy, z)
        self._draw_loss_axes()
        self._make_artists()
        self._draw_legend_and_title()
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    # -- static --------------------------------------------------------------------------------
    def height(self, values: np.ndarray) -> np.ndarray:
        """z coordinate of the 3-D view: ``log10(f - f* + 1e-3)`` on log-level surfaces, else ``f``."""
        if self.result.surface.log_levels:
            return np.log10(np.maximum(values - self.f_ref, FLOOR) + 1e-3)
        return values

    def _draw_surface(self, xx: np.ndarray, yy: np.ndarray, z: np.ndarray) -> None:
        from matplotlib.colors import ListedColormap, LogNorm

        s = self.result.surface
        cmap = ListedColormap(self._mpl.colormaps["Greys"](np.linspace(0.03, 0.42, 256)))
        gap = z - self.f_ref
        levels = contour_levels(gap, s.levels, s.log_levels)
        (x0, x1), (y0, y1) = s.domain
        ax = self.ax
        minima = np.array(s.minima, dtype=float).reshape(-1, 2)
        if self.three_d:
            ax.computed_zorder = False  # markers stay above the surface instead of depth-sorted behind it
            ax.plot_surface(xx, yy, self.height(z), cmap=cmap, linewidth=0, antialiased=False, alpha=0.75,
                            rstride=1, cstride=1, zorder=1)
            ax.set_zlabel("log10(f - f* + 0.001)" if s.log_levels else "f")
            ax.view_init(elev=40, azim=-120)
            if len(minima):
                with torch.no_grad():
                    fm = s.f(torch.from_numpy(minima)).numpy()
                ax.plot(minima[:, 0], minima[:, 1], self.height(fm), "*", color="white", mec="black", ms=14, zorder=5)
            with torch.no_grad():
                f0 = s.f(torch.tensor(self.result.start, dtype=torch.float64)).numpy()
            ax.plot([self.result.start[0]], [self.result.start[1]], self.height(f0.reshape(1)), "o", color="white",
                    mec="black", ms=9, mew=1.5, zorder=5)
        else:
            norm = LogNorm(levels[0], levels[-1]) if s.log_levels and levels[0] > 0 else None
            ax.contourf(xx, yy, gap, levels=levels, cmap=cmap, norm=norm, extend="both")
            ax.contour(xx, yy, gap, levels=levels, colors="#7a7a7a", linewidths=0.4, norm=norm)
            if len(minima):
                ax.plot(minima[:, 0], minima[:, 1], "*", color="white", mec="black", ms=15, mew=1.0, zorder=5)
            ax.plot(*self.result.start, "o", color="white", mec="black", ms=9, mew=1.5, zorder=5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("x")
        ax.set_ylabel("y")

    def _draw_loss_axes(self) -> None:
        ax = self.loss_ax
        gaps = np.concatenate([g[np.isfinite(g)] for g in self.gaps] or [np.array([1.0])])
        lo, hi = (gaps.min(), gaps.max()) if gaps.size else (FLOOR, 1.0)
        ax.set_yscale("log")
        ax.set_ylim(lo / 3, hi * 3 if hi > lo else lo * 10)
        ax.set_xlim(0, self.result.steps)
        ax.set_xlabel("step")
        ax.set_ylabel("f - f*" + (" (full batch)" if self.result.surface.stochastic else ""))
        ax.grid(True, which="major", color="#dddddd", linewidth=0.6)

    def _make_artists(self) -> None:
        self.trails, self.points, self.curves = [], [], []
        every = max(1, self.result.steps // 20)
        for i, run in enumerate(self.result.runs):
            color, marker = style(i)
            common = dict(color=color, animated=True)
            if self.three_d:
                trail, = self.ax.plot([], [], [], lw=1.8, marker=marker, ms=3, markevery=every, **common)
                point, = self.ax.plot([], [], [], marker=marker, ms=9, mec="black", mew=0.8, ls="", **common)
            else:
                trail, = self.ax.plot([], [], lw=1.8, marker=marker, ms=3, markevery=every, zorder=6, **common)
                point, = self.ax.plot([], [], marker=marker, ms=9, mec="black", mew=0.8, ls="", zorder=7, **common)
            curve, = self.loss_ax.plot([], [], lw=1.5, **common)
            self.trails.append(trail)
            self.points.append(point)
            self.curves.append(curve)
        box = dict(boxstyle="round,pad=0.25", fc="white", ec="#888888", alpha=0.9)
        if self.three_d:
            self.counter = self.ax.text2D(0.02, 0.97, "", transform=self.ax.transAxes, va="top", bbox=box,
                                          animated=True)
        else:
            self.counter = self.ax.text(0.02, 0.97, "", transform=self.ax.transAxes, va="top", bbox=box,
                                        animated=True, zorder=8)

    def _draw_legend_and_title(self) -> None:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=style(i)[0], marker=style(i)[1], lw=1.8, ms=6, mec="black", mew=0.5,
                          label=run.legend) for i, run in enumerate(self.result.runs)]
        handles.append(Line2D([], [], ls="", marker="o", color="white", mec="black", mew=1.5, ms=7, label="start"))
        if self.result.surface.minima:
            handles.append(Line2D([], [], ls="", marker="*", color="white", mec="black", ms=11, label="minimum"))
        n = len(handles)
        self.fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.655, 0.905), frameon=False,
                        fontsize=8.5 if n <= 10 else 7, ncol=1 if n <= 10 else 2, handlelength=2.2)
        width = max(40, int(self.fig.get_figwidth() * DPI / 7.5))
        self.fig.suptitle("\n".join(textwrap.wrap(self.result.title(), width)), fontsize=10.5, y=0.985,
                          va="top")

    # -- per frame -----------------------------------------------------------------------------
    def update(self, k: int) -> list:
        """Set the moving artists to step ``k``; returns them in drawing order."""
        artists = []
        for run, head, gap, trail, point, curve in zip(self.result.runs, self.heads, self.gaps, self.trails,
                                                       self.points, self.curves):
            path = run.path[:k + 1]
            h = head[k]
            if self.three_d:
                zs = self.height(run.losses[:k + 1])
                trail.set_data_3d(path[:, 0], path[:, 1], zs)
                point.set_data_3d(path[h:h + 1, 0], path[h:h + 1, 1], zs[h:h + 1])
            else:
                trail.set_data(path[:, 0], path[:, 1])
                point.set_data(path[h:h + 1, 0], path[h:h + 1, 1])
            curve.set_data(np.arange(k + 1), gap[:k + 1])
            artists += [trail, point, curve]
        self.counter.set_text(f"step {k}/{self.result.steps}")
        return [*artists, self.counter]

    def draw(self, k: int) -> np.ndarray:
        """The picture at step ``k`` as an (H, W, 3) uint8 array: background plus the moving artists."""
        self.canvas.restore_region(self.background)
        for artist in self.update(k):
            self.fig.draw_artist(artist)
        return self.pixels()

    def pixels(self) -> np.ndarray:
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        self.fig.clear()
