"""Loss surfaces as data: a function on ``(..., 2)`` tensors, a plotting domain, minima and a start.

Built in (formulas, domains and minima as in the standard test-function tables):

* ``beale``       :math:`(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2`, minimum (3, 0.5)
* ``rosenbrock``  :math:`(1-x)^2 + 100(y-x^2)^2`, minimum (1, 1)
* ``rastrigin``   :math:`20 + \\sum_i x_i^2 - 10\\cos(2\\pi x_i)`, minimum (0, 0), many local minima
* ``himmelblau``  :math:`(x^2+y-11)^2 + (x+y^2-7)^2`, four minima
* ``booth``       :math:`(x+2y-7)^2 + (2x+y-5)^2`, minimum (1, 3)
* ``ackley``      :math:`-20e^{-0.2\\sqrt{(x^2+y^2)/2}} - e^{(\\cos 2\\pi x + \\cos 2\\pi y)/2} + e + 20`,
  minimum (0, 0); the square root is smoothed so the gradient at the origin is 0, not NaN
* ``saddle``      :math:`x^2 + (y^2-1)^2/4`: a saddle at the origin between minima (0, ±1)
* ``long-valley`` :math:`x^2/200 + 2y^2`: a narrow valley with condition number 400
* ``moons``       mean logistic loss of :math:`\\sigma(w_1 u_1 + w_2 u_2)` on scikit-learn's noisy moons
  (standardised features), with minibatch gradients (deterministic batches)

A user surface is just ``Surface(name, f, domain, start=...)``; any ``f`` built from torch operations that
maps ``(..., 2)`` to ``(...)`` works (it is evaluated in float64 and differentiated by autograd).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import Tensor

Point = tuple[float, float]
Domain = tuple[tuple[float, float], tuple[float, float]]


class UnknownSurfaceError(ValueError):
    """Raised for a surface name that is not built in; the message lists the valid names."""


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface.

    Attributes:
        name: key (``"beale"``) and cache identity.
        f: loss on ``(..., 2)`` float64 tensors, returning ``(...)``.
        domain: ``((xmin, xmax), (ymin, ymax))`` for plotting; starts must lie inside it.
        minima: global minima ``(x, y)`` (may be empty for a user surface).
        start: default start.
        title: display name.
        formula: one line for listings.
        levels: number of contour levels.
        log_levels: space contour levels logarithmically in ``f - f*`` (surfaces with huge ranges).
        batch_f: ``batch_f(xy, step) -> (...)``, the minibatch loss whose gradient drives step ``step`` of
            a stochastic surface; ``None`` means the gradient of ``f`` itself.
    """

    name: str
    f: Callable[[Tensor], Tensor]
    domain: Domain
    start: Point
    minima: tuple[Point, ...] = ()
    title: str = ""
    formula: str = ""
    levels: int = 30
    log_levels: bool = False
    batch_f: Callable[[Tensor, int], Tensor] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Invalid surface name: {self.name!r}; allowed: a non-empty string")
        if not callable(self.f):
            raise ValueError(f"Invalid f for surface {self.name!r}: {self.f!r}; allowed: a callable on (..., 2) tensors")
        (x0, x1), (y0, y1) = self.domain
        if not (x0 < x1 and y0 < y1 and all(map(math.isfinite, (x0, x1, y0, y1)))):
            raise ValueError(f"Invalid domain for surface {self.name!r}: {self.domain!r}; "
                             "allowed: ((xmin, xmax), (ymin, ymax)) finite with xmin < xmax and ymin < ymax")
        self.check_start(self.start, "start")
        if not self.title:
            object.__setattr__(self, "title", self.name)
        if not (isinstance(self.levels, int) and self.levels >= 2):
            raise ValueError(f"Invalid levels for surface {self.name!r}: {self.levels!r}; allowed: an integer >= 2")

    @property
    def stochastic(self) -> bool:
        return self.batch_f is not None

    def contains(self, point: Sequence[float]) -> bool:
        (x0, x1), (y0, y1) = self.domain
        return x0 <= point[0] <= x1 and y0 <= point[1] <= y1

    def check_start(self, start: Sequence[float], argname: str = "start") -> Point:
        """``start`` as a float pair; ``ValueError`` if it is not a finite point inside the domain."""
        try:
            point = (float(start[0]), float(start[1]))
            ok = len(start) == 2 and all(map(math.isfinite, point))
        except (TypeError, ValueError, IndexError):
            ok = False
        if not ok:
            raise ValueError(f"Invalid {argname}: {start!r}; allowed: two finite numbers x, y")
        if not self.contains(point):
            (x0, x1), (y0, y1) = self.domain
            raise ValueError(f"Invalid {argname}: {point!r} lies outside the {self.name} domain; "
                             f"allowed: x in [{x0}, {x1}], y in [{y0}, {y1}]")
        return point

    def loss(self, xy: Tensor, step: int) -> Tensor:
        """The loss whose gradient drives step ``step``: the minibatch loss if stochastic, else ``f``."""
        return self.batch_f(xy, step) if self.batch_f is not None else self.f(xy)

    def f_star(self) -> float:
        """The minimum value (at the listed minima), or ``nan`` when no minimum is listed."""
        if not self.minima:
            return math.nan
        with torch.no_grad():
            return float(self.f(torch.tensor(self.minima, dtype=torch.float64)).min())

    @functools.cached_property
    def key(self) -> str:
        """Cache identity: the name plus a digest of the function's code (so an edited user surface misses)."""
        parts = [self.name, repr(self.domain), repr(self.minima)]
        for fn in (self.f, self.batch_f):
            code = getattr(fn, "__code__", None)
            if code is not None:
                parts += [fn.__qualname__, code.co_code.hex(), repr(code.co_consts)]
            elif fn is not None:
                parts.append(getattr(type(fn), "__qualname__", repr(type(fn))))
        return f"{self.name}-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:16]}"


# -- formulas (each on (..., 2) tensors) ----------------------------------------------------------

def _xy(t: Tensor) -> tuple[Tensor, Tensor]:
    return t[..., 0], t[..., 1]


def beale(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def rosenbrock(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def rastrigin(t: Tensor) -> Tensor:
    return 20 + (t ** 2 - 10 * torch.cos(2 * math.pi * t)).sum(-1)


def himmelblau(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def booth(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


_ACKLEY_EPS = 1e-12  # sqrt(r2/2 + eps): finite, zero gradient at the origin


def ackley(t: Tensor) -> Tensor:
    r = torch.sqrt(0.5 * (t ** 2).sum(-1) + _ACKLEY_EPS)
    # the constant is 20 exp(-0.2 sqrt(eps)) instead of 20, so that f(0, 0) = 0 exactly
    return (-20 * torch.exp(-0.2 * r) - torch.exp(0.5 * torch.cos(2 * math.pi * t).sum(-1)) + math.e
            + 20 * math.exp(-0.2 * math.sqrt(_ACKLEY_EPS)))


def saddle(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return x ** 2 + 0.25 * (y ** 2 - 1) ** 2


def long_valley(t: Tensor) -> Tensor:
    x, y = _xy(t)
    return x ** 2 / 200 + 2 * y ** 2


def polish_minimum(f: Callable[[Tensor], Tensor], point: Point, iters: int = 20) -> Point:
    """Refine a tabulated minimum (given to ~6 digits) with Newton steps in float64."""
    p = torch.tensor(point, dtype=torch.float64)
    for _ in range(iters):
        q = p.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(q), q, create_graph=True)
        h = torch.stack([torch.autograd.grad(g[i], q, retain_graph=True)[0] for i in range(2)])
        p = (q - torch.linalg.solve(h, g)).detach()
    return float(p[0]), float(p[1])


# -- noisy moons ------------------------------------------------------------------------------------

MOONS_SAMPLES, MOONS_NOISE, MOONS_BATCH, MOONS_SEED = 256, 0.25, 32, 0


def _moons() -> Surface:
    from sklearn.datasets import make_moons  # optional dependency (extra "lab")

    u, labels = make_moons(n_samples=MOONS_SAMPLES, noise=MOONS_NOISE, random_state=MOONS_SEED)
    u = torch.as_tensor(u, dtype=torch.float64)
    u = (u - u.mean(0)) / u.std(0)
    sign = torch.as_tensor(labels, dtype=torch.float64) * 2 - 1
    margin_dir = u * sign[:, None]  # loss = mean softplus(-y w.u)

    def moons(t: Tensor) -> Tensor:
        return torch.nn.functional.softplus(-(t @ margin_dir.T)).mean(-1)

    batches_per_epoch = MOONS_SAMPLES // MOONS_BATCH

    @functools.lru_cache(maxsize=64)
    def epoch_order(epoch: int) -> Tensor:
        gen = torch.Generator().manual_seed(MOONS_SEED * 100_003 + epoch)
        return torch.randperm(MOONS_SAMPLES, generator=gen)

    def moons_batch(t: Tensor, step: int) -> Tensor:
        epoch, b = divmod(step, batches_per_epoch)
        idx = epoch_order(epoch)[b * MOONS_BATCH:(b + 1) * MOONS_BATCH]
        return torch.nn.functional.softplus(-(t @ margin_dir[idx].T)).mean(-1)

    minimum = polish_minimum(moons, (0.0, 0.0))
    return Surface(
        "moons", moons, domain=((-3.0, 5.0), (-6.0, 2.0)), start=(4.5, 1.5), minima=(minimum,),
        title="Noisy moons (logistic loss, minibatches)",
        formula=f"mean softplus(-y w.u) on make_moons({MOONS_SAMPLES}, noise={MOONS_NOISE}); batch {MOONS_BATCH}",
        levels=25, batch_f=moons_batch)


def _himmelblau() -> Surface:
    table = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
    return Surface("himmelblau", himmelblau, domain=((-5.0, 5.0), (-5.0, 5.0)), start=(-0.3, -0.9),
                   minima=tuple(polish_minimum(himmelblau, m) for m in table), title="Himmelblau",
                   formula="(x^2+y-11)^2 + (x+y^2-7)^2", levels=30, log_levels=True)


_BUILDERS: dict[str, Callable[[], Surface]] = {
    "beale": lambda: Surface("beale", beale, domain=((-4.5, 4.5), (-4.5, 4.5)), start=(1.0, 1.5),
                             minima=((3.0, 0.5),), title="Beale",
                             formula="(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2", levels=35, log_levels=True),
    "rosenbrock": lambda: Surface("rosenbrock", rosenbrock, domain=((-2.0, 2.0), (-1.0, 3.0)), start=(-1.2, 1.0),
                                  minima=((1.0, 1.0),), title="Rosenbrock", formula="(1-x)^2 + 100(y-x^2)^2",
                                  levels=35, log_levels=True),
    "rastrigin": lambda: Surface("rastrigin", rastrigin, domain=((-5.12, 5.12), (-5.12, 5.12)), start=(-4.6, 3.7),
                                 minima=((0.0, 0.0),), title="Rastrigin",
                                 formula="20 + x^2 - 10cos(2 pi x) + y^2 - 10cos(2 pi y)", levels=20),
    "himmelblau": _himmelblau,
    "booth": lambda: Surface("booth", booth, domain=((-10.0, 10.0), (-10.0, 10.0)), start=(-8.0, -6.0),
                             minima=((1.0, 3.0),), title="Booth", formula="(x+2y-7)^2 + (2x+y-5)^2",
                             levels=30, log_levels=True),
    "ackley": lambda: Surface("ackley", ackley, domain=((-5.0, 5.0), (-5.0, 5.0)), start=(3.7, -3.1),
                              minima=((0.0, 0.0),), title="Ackley",
                              formula="-20exp(-0.2 sqrt((x^2+y^2)/2)) - exp((cos 2pi x + cos 2pi y)/2) + e + 20",
                              levels=25),
    "saddle": lambda: Surface("saddle", saddle, domain=((-1.5, 1.5), (-1.5, 1.5)), start=(-1.0, 1e-3),
                              minima=((0.0, -1.0), (0.0, 1.0)), title="Saddle",
                              formula="x^2 + (y^2-1)^2/4 (saddle at the origin, start on its ridge)", levels=25),
    "long-valley": lambda: Surface("long-valley", long_valley, domain=((-10.0, 10.0), (-2.0, 2.0)), start=(-9.0, 1.5),
                                   minima=((0.0, 0.0),), title="Long valley",
                                   formula="x^2/200 + 2y^2 (condition number 400)", levels=30, log_levels=True),
    "moons": _moons,
}


def names() -> list[str]:
    """Names of the built-in surfaces."""
    return list(_BUILDERS)


@functools.lru_cache(maxsize=None)
def get(name: str) -> Surface:
    """The built-in surface ``name``; :class:`UnknownSurfaceError` (a ``ValueError``) lists the valid names."""
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in _BUILDERS:
        raise UnknownSurfaceError(f"Unknown surface {name!r}; valid names: {', '.join(_BUILDERS)}")
    return _BUILDERS[key]()


def resolve(surface: Surface | str) -> Surface:
    """A surface given by name or as a :class:`Surface`."""
    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str):
        return get(surface)
    raise ValueError(f"Invalid surface: {surface!r}; allowed: a Surface or one of {', '.join(_BUILDERS)}")
