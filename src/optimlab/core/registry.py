"""The registry: one :class:`Spec` per optimizer.

A spec is the single declaration of an optimizer. The public class's typed signature is the source of
the hyperparameters' names and defaults; the spec adds what a signature cannot say (valid ranges, a
learning-rate search range, lineage, paper, capabilities, the torch.optim equivalent and the option
variants the tests exercise). Validation, the parametrised tests, the docs table, the lab's and the
tuner's search spaces all read it; nothing elsewhere special-cases an optimizer by name.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import torch

from optimlab.core.validation import LR_RANGE, POSITIVE_INT

Constraint = Callable[[str, Any], Any]


class UnknownOptimizerError(ValueError):
    """Raised for a name that is not in the registry; the message lists the valid names."""


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its name and default (from the class signature) and its constraint."""

    name: str
    default: Any
    check: Constraint

    @property
    def allowed(self) -> str:
        describe = getattr(self.check, "describe", None)
        return describe() if describe else ""


@dataclass(frozen=True)
class Capabilities:
    """What an optimizer accepts. ``sparse``: sparse gradients (as torch.optim's SGD and Adagrad do);
    the adapter densifies them, which gives torch's sparse updates exactly (a coordinate without a
    gradient gets a zero one)."""

    sparse: bool = False


SPARSE_GRADS = Capabilities(sparse=True)

# The seed post's family, in its order: the default set of the lab's races and of the comparison report.
SEED_FAMILY = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "nadam")


@dataclass(frozen=True)
class Spec:
    """Everything optimlab knows about one optimizer.

    Attributes:
        name: registry key (lower case), e.g. ``"adam"``.
        cls: the public ``torch.optim.Optimizer`` subclass.
        family: ``"gradient descent"``, ``"momentum"`` or ``"adaptive"``.
        summary: one line for tables.
        paper: the reference (authors, title, venue, year).
        parents: registry names of the optimizers this one builds on (the lineage).
        checks: one constraint per hyperparameter of ``cls.__init__`` (common ones are added).
        relations: checks across hyperparameters, ``fn(group) -> None`` raising ``ValueError``.
        lr_range: a sensible log-spaced search range for the learning rate.
        torch_equivalent: ``fn(params, **hypers) -> torch.optim.Optimizer`` that torch.optim would use
            for the same update, or ``None`` when torch has no such optimizer.
        variants: option sets that together exercise every option (used by the tests).
    """

    name: str
    cls: type
    family: str
    summary: str
    paper: str
    parents: tuple[str, ...]
    checks: Mapping[str, Constraint]
    lr_range: tuple[float, float]
    relations: tuple[Callable[[Mapping[str, Any]], None], ...] = ()
    torch_equivalent: Callable[..., torch.optim.Optimizer] | None = None
    variants: tuple[Mapping[str, Any], ...] = ({},)
    capabilities: Capabilities = field(default_factory=Capabilities)

    @property
    def title(self) -> str:
        return self.cls.__name__

    @property
    def hypers(self) -> tuple[Hyper, ...]:
        """Hyperparameters in signature order, with defaults taken from the class signature."""
        sig = inspect.signature(self.cls.__init__)
        out = []
        for pname, p in sig.parameters.items():
            if pname in ("self", "params"):
                continue
            check = self.checks.get(pname) or COMMON_CHECKS.get(pname)
            if check is None:
                raise TypeError(f"{self.title}.__init__ argument {pname!r} has no constraint in its spec")
            out.append(Hyper(pname, p.default, check))
        return tuple(out)

    @property
    def defaults(self) -> dict[str, Any]:
        return {h.name: h.default for h in self.hypers}

    def validate(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """Check every hyperparameter present in ``group``; return the normalised values.

        Also keys outside the class signature that the spec constrains: a recipe class fixes some of its
        parent's options (NAG: ``nesterov=True``), yet they sit in every param group and can be overridden.
        """
        out = {}
        for h in self.hypers:
            if h.name in group:
                out[h.name] = h.check(h.name, group[h.name])
        for key in group.keys() - out.keys():
            check = self.checks.get(key)
            if check is not None:
                out[key] = check(key, group[key])
        merged = {**group, **out}
        for relation in self.relations:
            relation(merged)
        return out

    def dense_grad(self, grad: torch.Tensor, where: str) -> torch.Tensor:
        """``grad`` itself, or a dense copy of a sparse one where :attr:`capabilities` allow sparse
        gradients (a coordinate without a gradient gets a zero one: torch's sparse update exactly);
        otherwise a ``ValueError`` naming ``where``."""
        if grad.layout is torch.strided:
            return grad
        if not self.capabilities.sparse:
            takes = ", ".join(s.title for s in specs() if s.capabilities.sparse)
            raise ValueError(f"{self.title} does not support sparse gradients, got one ({grad.layout}) for {where}; "
                             f"allowed: dense gradients (or an optimizer that takes sparse ones: {takes}, "
                             "torch.optim.SparseAdam)")
        return grad.to_dense()

    def make(self, params: Iterable[Any], **hypers: Any) -> torch.optim.Optimizer:
        """Build the optimizer; unknown hyperparameter names raise a ``TypeError`` that lists the valid ones."""
        known = {h.name for h in self.hypers}
        unknown = sorted(set(hypers) - known)
        if unknown:
            raise TypeError(f"{self.title} has no hyperparameter {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return self.cls(params, **hypers)

    def lr_grid(self, per_decade: int = 3, lr_range: tuple[float, float] | None = None) -> list[float]:
        """Log-spaced learning rates over ``lr_range`` (default: the spec's), ``per_decade`` per factor 10."""
        lo, hi = lr_range or self.lr_range
        return log_grid(lo, hi, per_decade)


def log_grid(lo: float, hi: float, per_decade: int = 3) -> list[float]:
    """Log-spaced values from ``lo`` to ``hi`` inclusive, ``per_decade`` per factor of 10."""
    per_decade = POSITIVE_INT("per_decade", per_decade)
    lo, hi = LR_RANGE("learning-rate range", (lo, hi))
    if lo == hi:
        return [float(lo)]
    n = max(1, round(math.log10(hi / lo) * per_decade))
    return [float(lo * (hi / lo) ** (i / n)) for i in range(n + 1)]


# Checks shared by every optimizer: the engine options each public class takes.
COMMON_CHECKS: dict[str, Constraint] = {}

_REGISTRY: dict[str, Spec] = {}


def register(spec: Spec) -> Spec:
    if spec.name in _REGISTRY:
        raise ValueError(f"optimizer {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    spec.cls.spec = spec
    return spec


def _load() -> None:
    # Importing the optimizers package registers the built-in family.
    import optimlab.optimizers  # noqa: F401


def names() -> list[str]:
    """Registry names in declaration order (the classic family first)."""
    _load()
    return list(_REGISTRY)


def specs() -> list[Spec]:
    _load()
    return list(_REGISTRY.values())


def get(name: str) -> Spec:
    """The spec for ``name`` (case-insensitive; also accepts the class name, e.g. ``"AdamW"``)."""
    _load()
    key = name.strip().lower() if isinstance(name, str) else name
    if key in _REGISTRY:
        return _REGISTRY[key]
    raise UnknownOptimizerError(f"Unknown optimizer {name!r}; valid names: {', '.join(_REGISTRY)}")
