"""Who races: registry names, or any factory returning a ``torch.optim.Optimizer``.

A :class:`Racer` is a label, a factory called as ``factory([param], lr=..., **hypers)``, the learning
rates to tune over and a cache identity. Registry names take everything from their spec (label, grid,
defaults); a ``(label, factory)`` pair works for torch.optim classes, ``functools.partial`` objects and
third-party optimizers alike, tuned over :data:`DEFAULT_LR_RANGE` unless the factory carries a spec.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence


from optimlab import registry
from optimlab.lab.trajectory import Factory

SEED_EIGHT = registry.SEED_FAMILY
DEFAULT_LR_RANGE = (1e-4, 1.0)


@dataclass(frozen=True)
class Racer:
    """One contestant. ``lr=None`` means the factory's own default; ``key=None`` disables caching."""

    label: str
    factory: Factory
    lr_grid: tuple[float, ...]
    lr: float | None = None
    hypers: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None
    name: str | None = None  # registry name, when it came from the registry


def factory_key(factory: Any) -> str | None:
    """A stable identity for a factory (module, qualified name, package version, bound arguments), or
    ``None`` where there is none (lambdas, closures, bound methods)."""
    if isinstance(factory, functools.partial):
        inner = factory_key(factory.func)
        if inner is None:
            return None
        return f"{inner}(*{factory.args!r}, **{sorted(factory.keywords.items())!r})"
    qual, mod = getattr(factory, "__qualname__", None), getattr(factory, "__module__", None)
    if not qual or not mod or "<" in qual or hasattr(factory, "__self__"):
        return None
    version = getattr(sys.modules.get(mod.split(".")[0]), "__version__", "")
    return f"{mod}.{qual}@{version}"


def positive_number(name: str, value: Any, also: str = "") -> float:
    """``value`` as a finite float > 0 (numbers or numeric strings), else a ValueError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"Invalid {name}: {value!r}; allowed: {also}a finite number > 0")
    return x


def check_lr(lr: Any, label: str) -> float:
    return positive_number(f"lr for {label}", lr)


def from_registry(name: str) -> Racer:
    spec = registry.get(name)
    return Racer(spec.title, spec.make, tuple(spec.lr_grid()), key=f"optimlab.{spec.name}", name=spec.name)


def from_factory(label: str, factory: Factory) -> Racer:
    if not callable(factory):
        raise ValueError(f"Invalid factory for {label!r}: {factory!r}; allowed: a callable returning a "
                         "torch.optim.Optimizer")
    spec = getattr(factory, "spec", None)
    grid = spec.lr_grid() if isinstance(spec, registry.Spec) else registry.log_grid(*DEFAULT_LR_RANGE)
    return Racer(str(label), factory, tuple(grid), key=factory_key(factory))


def from_import_path(path: str) -> Racer:
    """A racer from a dotted path to an optimizer class or factory: ``torch.optim.LBFGS``, ``pkg.mod:Lion``."""
    module, sep, attr = path.partition(":") if ":" in path else path.rpartition(".")
    allowed = ("allowed: a registry name (" + ", ".join(registry.names()) + ") or an importable optimizer "
               "class such as torch.optim.LBFGS or package.module:Class")
    if not (module and sep and attr):
        raise ValueError(f"Invalid optimizer {path!r}; {allowed}")
    try:
        target = importlib.import_module(module)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"Invalid optimizer {path!r}: {exc}; {allowed}") from None
    if not callable(target):
        raise ValueError(f"Invalid optimizer {path!r}: {type(target).__name__} is not callable; {allowed}")
    return from_factory(path, target)


def resolve(optimizers: Sequence[Any] | str, lrs: Mapping[str, float] | None = None) -> list[Racer]:
    """Racers from names (a list or a comma-separated string), ``(label, factory)`` pairs or Racers, with
    the explicit learning rates ``lrs`` (keyed by registry name or label, case-insensitive) applied."""
    if isinstance(optimizers, str):
        optimizers = [s for s in (part.strip() for part in optimizers.split(",")) if s]
    racers = []
    for item in optimizers:
        if isinstance(item, Racer):
            racers.append(item)
        elif isinstance(item, str):
            racers.append(from_import_path(item) if ("." in item or ":" in item) else from_registry(item))
        elif isinstance(item, tuple) and len(item) == 2:
            racers.append(from_factory(*item))
        else:
            raise ValueError(f"Invalid optimizer entry: {item!r}; allowed: a registry name "
                             f"({', '.join(registry.names())}), an import path (torch.optim.LBFGS), a (label, "
                             "factory) pair or a Racer")
    if not racers:
        raise ValueError("Invalid optimizers: an empty list; allowed: at least one optimizer")
    labels = [r.label.lower() for r in racers]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        raise ValueError(f"Invalid optimizers: duplicate labels {', '.join(dupes)}; allowed: each optimizer once")
    lrs = dict(lrs or {})
    for key, value in lrs.items():
        matches = [i for i, r in enumerate(racers) if key.lower() in (r.label.lower(), (r.name or "").lower())]
        if not matches:
            raise ValueError(f"Invalid lr for {key!r}: it is not racing; allowed: "
                             f"{', '.join(r.name or r.label for r in racers)}")
        i = matches[0]
        racers[i] = dataclasses.replace(racers[i], lr=check_lr(value, key))
    return racers
