"""The catalogue: every optimizer of :mod:`optimlab.optimizers`, discovered, as one :class:`Spec` each.

Each module of the ``optimizers`` package is imported and every :class:`optimlab.Optimizer` subclass it
defines with a registry ``name`` is catalogued, in file order within a module and modules in :data:`ORDER`
(the classic family first), then alphabetically. Nothing registers itself and nothing in the family imports
this module: an optimizer is one file, and its class declares everything this catalogue knows (its
hyperparameters with defaults, ranges and meaning, the learning-rate search range, lineage, paper,
capabilities). Validation, the docs table, the lab's and the tuner's search spaces all read it; nothing
elsewhere special-cases an optimizer by name.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import math
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import torch

from optimlab.adapter import Hyper, Optimizer
from optimlab.validation import LR_RANGE, POSITIVE_INT

ORDER = ("sgd", "adagrad", "rmsprop", "adadelta", "adam", "nadam", "adamax")
"""Modules listed first, in this order (the seed post's lineage); any other module follows, alphabetically."""

# The seed post's family, in its order: the default set of the lab's races and of the comparison report.
SEED_FAMILY = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "nadam")


class UnknownOptimizerError(ValueError):
    """Raised for a name that is not in the catalogue; the message lists the valid names."""


@dataclass(frozen=True)
class Capabilities:
    """What an optimizer accepts. ``sparse``: sparse gradients (densified: torch's sparse update exactly);
    ``complex``: complex parameters (as pairs of reals, as torch.optim does)."""

    sparse: bool = False
    complex: bool = True


@dataclass(frozen=True)
class HyperInfo:
    """One hyperparameter as the catalogue shows it: name, default, constraint and meaning."""

    name: str
    default: Any
    check: Callable[..., Any]
    doc: str = ""

    @property
    def allowed(self) -> str:
        describe = getattr(self.check, "describe", None)
        return describe() if describe else ""


@dataclass(frozen=True)
class Spec:
    """Everything optimlab knows about one optimizer, read from its class."""

    cls: type

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def title(self) -> str:
        return self.cls.__name__

    family = property(lambda self: self.cls.family)
    summary = property(lambda self: self.cls.summary)
    paper = property(lambda self: self.cls.paper)
    parents = property(lambda self: tuple(self.cls.parents))
    reference = property(lambda self: self.cls.reference)

    def reference_factory(self) -> Callable[..., torch.optim.Optimizer] | None:
        """The optimizer class's declared ``reference`` (``"torch.optim.SGD(momentum=0.9)"``) as a factory
        ``fn(params, **hypers)``, or None when there is none or its package is not installed. The text is
        parsed (a dotted name called with literal keyword arguments), never evaluated."""
        return reference_factory(self.cls.reference)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(sparse=bool(self.cls.sparse), complex=self.cls.complex_params is True)

    @property
    def lr_range(self) -> tuple[float, float]:
        return self.cls._hypers["lr"].search

    @property
    def hypers(self) -> tuple[HyperInfo, ...]:
        """Hyperparameters in signature order, as declared."""
        return tuple(HyperInfo(n, h.default, h.check, h.doc) for n, h in self.cls._hypers.items())

    @property
    def defaults(self) -> dict[str, Any]:
        return {n: h.default for n, h in self.cls._hypers.items()}

    def validate(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """Check every hyperparameter present in ``group`` (and the relations between them); return the
        normalised values of those present."""
        hypers: dict[str, Hyper] = {**self.cls._hypers, **self.cls._fixed_checks}
        out = {n: h.validate(n, group[n]) for n, h in hypers.items() if n in group}
        for relation in self.cls.relations:
            relation({**self.defaults, **self.cls._fixed, **group, **out})
        return out

    def make(self, params: Iterable[Any], **hypers: Any) -> torch.optim.Optimizer:
        """Build the optimizer; unknown hyperparameter names raise a ``TypeError`` that lists the valid ones."""
        known = set(self.cls._hypers)
        unknown = sorted(set(hypers) - known)
        if unknown:
            raise TypeError(f"{self.title} has no hyperparameter {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return self.cls(params, **hypers)

    def lr_grid(self, per_decade: int = 3, lr_range: tuple[float, float] | None = None) -> list[float]:
        """Log-spaced learning rates over ``lr_range`` (default: the spec's), ``per_decade`` per factor 10."""
        lo, hi = lr_range or self.lr_range
        return log_grid(lo, hi, per_decade)


def reference_factory(text: str) -> Callable[..., torch.optim.Optimizer] | None:
    """``"pkg.mod.Class"`` or ``"pkg.mod.Class(key=literal, ...)"`` as ``functools.partial(Class, **keys)``."""
    if not text:
        return None
    node = ast.parse(text, mode="eval").body
    keywords: dict[str, Any] = {}
    if isinstance(node, ast.Call):
        if node.args:
            raise ValueError(f"Invalid reference {text!r}; allowed: a dotted name with keyword arguments only")
        keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        node = node.func
    dotted = ast.unparse(node)
    module, _, name = dotted.rpartition(".")
    try:
        target = getattr(importlib.import_module(module), name)
    except ImportError:
        return None
    return functools.partial(target, **keywords) if keywords else target


def log_grid(lo: float, hi: float, per_decade: int = 3) -> list[float]:
    """Log-spaced values from ``lo`` to ``hi`` inclusive, ``per_decade`` per factor of 10."""
    per_decade = POSITIVE_INT("per_decade", per_decade)
    lo, hi = LR_RANGE("learning-rate range", (lo, hi))
    if lo == hi:
        return [float(lo)]
    n = max(1, round(math.log10(hi / lo) * per_decade))
    return [float(lo * (hi / lo) ** (i / n)) for i in range(n + 1)]


def _module_order(name: str) -> tuple:
    return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[str, Spec]:
    import optimlab.optimizers as family

    found: dict[str, Spec] = {}
    modules = sorted((m.name for m in pkgutil.iter_modules(family.__path__) if not m.name.startswith("_")),
                     key=_module_order)
    for module_name in modules:
        module = importlib.import_module(f"{family.__name__}.{module_name}")
        classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, Optimizer) and c.__module__ == module.__name__ and c.__dict__.get("name")]
        classes.sort(key=lambda c: inspect.getsourcelines(c)[1])
        for cls in classes:
            if cls.name in found:
                raise ValueError(f"optimizer name {cls.name!r} is used by {found[cls.name].cls.__qualname__} and "
                                 f"{cls.__qualname__}")
            if "lr" not in cls._hypers or cls._hypers["lr"].search is None:
                raise TypeError(f"{cls.__qualname__} declares no lr search range (lr = Hyper(..., search=(lo, hi)))")
            found[cls.name] = Spec(cls)
    return found


def names() -> list[str]:
    """Catalogue names in order (the classic family first)."""
    return list(_catalogue())


def specs() -> list[Spec]:
    return list(_catalogue().values())


def classes() -> dict[str, type]:
    """Every optimizer class by its class name (``{"Adam": optimlab.Adam, ...}``)."""
    return {s.title: s.cls for s in specs()}


def get(name: str) -> Spec:
    """The spec for ``name`` (case-insensitive; also accepts the class name, e.g. ``"AdamW"``)."""
    cat = _catalogue()
    key = name.strip().lower() if isinstance(name, str) else name
    if key in cat:
        return cat[key]
    raise UnknownOptimizerError(f"Unknown optimizer {name!r}; valid names: {', '.join(cat)}")
