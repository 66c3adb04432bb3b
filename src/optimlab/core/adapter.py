"""The adapter: a thin ``torch.optim.Optimizer`` subclass that runs a recipe through the engine.

torch.optim's base class gives param groups, ``add_param_group``, ``state_dict`` / ``load_state_dict``,
step and state-dict hooks, ``zero_grad`` and compatibility with every ``torch.optim.lr_scheduler``.
This class adds what optimlab needs around it: validation from the registry spec, the non-finite
gradient guard, and the step that hands each group's tensors to the engine. Hyperparameters live in
``param_groups`` under torch's names, state under torch's keys, so checkpoints move both ways.
"""

from __future__ import annotations

from functools import partial
from operator import attrgetter, is_
from typing import Any, ClassVar, Iterable

import torch
from torch import Tensor

from optimlab.core import engine
from optimlab.core.registry import COMMON_CHECKS, Spec
from optimlab.core.transform import Chain
from optimlab.core.validation import BOOLEAN, Choice


class _ImplChoice:
    """``impl`` must name a registered engine implementation (the set can grow at run time)."""

    def describe(self) -> str:
        return "one of " + ", ".join(repr(n) for n in engine.impl_names())

    def __call__(self, name: str, value: Any) -> Any:
        return Choice(engine.impl_names())(name, value)


NONFINITE_MODES = (None, "skip", "raise")
# Keyword options every optimizer takes that steer the engine rather than the math.
ENGINE_OPTIONS = ("impl", "nonfinite")
COMMON_CHECKS.update(maximize=BOOLEAN, impl=_ImplChoice(), nonfinite=Choice(NONFINITE_MODES))


def _stored_values(t: Tensor) -> Tensor:
    """The values a tensor stores (a sparse COO tensor's non-zeros; a dense tensor itself)."""
    return t._values() if t.layout is torch.sparse_coo else t if t.layout is torch.strided else t.values()


_GRAD, _LAYOUT, _IS_NONE = attrgetter("grad"), attrgetter("layout"), partial(is_, None)


class NonFiniteGradientError(FloatingPointError):
    """Raised by ``nonfinite="raise"`` before any parameter or state is modified."""


class Optimizer(torch.optim.Optimizer):
    """Base of every optimlab optimizer. Subclasses define ``__init__`` (torch's signature) and ``recipe``.

    Engine options every optimizer takes (keyword-only):

    * ``impl``: ``"auto"`` (default), ``"reference"`` (tensor-by-tensor loop) or ``"foreach"``
      (multi-tensor); all run the same update rule.
    * ``nonfinite``: ``None`` (as torch: no check), ``"skip"`` (a group whose gradients hold a NaN or
      inf is left untouched for that step and ``skipped_steps`` counts it) or ``"raise"`` (raise
      :class:`NonFiniteGradientError` naming the parameter, before anything is modified).
    """

    spec: ClassVar[Spec]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        defaults.update(self.spec.validate(defaults))
        self.skipped_steps = 0
        self.last_impl: list[list[tuple[str, str]]] = []
        super().__init__(params, defaults)

    # -- subclasses ---------------------------------------------------------------------------
    @staticmethod
    def recipe(group: dict[str, Any]) -> Chain:  # pragma: no cover - every subclass overrides
        """The chain of transforms for one param group's hyperparameters."""
        raise TypeError("optimlab.Optimizer subclasses must define recipe(group)")

    # -- groups -------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        merged = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        param_group = {**param_group, **self.spec.validate(merged)}
        super().add_param_group(param_group)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a checkpoint from optimlab or from the matching ``torch.optim`` class."""
        super().load_state_dict(state_dict)
        self._restore_scalar_dtypes(state_dict)
        for state in self.state.values():  # torch's SGD keeps a sparse momentum buffer for sparse gradients
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.layout is not torch.strided:
                    state[key] = value.to_dense()
        for group in self.param_groups:
            for key, value in self.defaults.items():
                group.setdefault(key, value)
            group.update(self.spec.validate(group))
        self.skipped_steps = int(state_dict.get("optimlab", {}).get("skipped_steps", 0))

    def _restore_scalar_dtypes(self, state_dict: dict[str, Any]) -> None:
        """torch's loader casts every non-``step`` state tensor to the param's dtype; 0-d scalar state
        (e.g. NAdam's ``mu_product``) keeps the dtype it was saved in, so a resumed run is bit-identical."""
        saved_ids = [i for g in state_dict["param_groups"] for i in g["params"]]
        params = [p for g in self.param_groups for p in g["params"]]
        for pid, p in zip(saved_ids, params):
            saved = state_dict["state"].get(pid, {})
            live = self.state.get(p, {})
            for key, value in saved.items():
                if (key != "step" and isinstance(value, torch.Tensor) and value.dim() == 0
                        and key in live and live[key].dtype != value.dtype):
                    live[key] = live[key].to(value.dtype)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["optimlab"] = {"skipped_steps": self.skipped_steps}
        return sd

    # -- the step -----------------------------------------------------------------------------
    def _param_name(self, group_index: int, index: int) -> str:
        group = self.param_groups[group_index]
        names = group.get("param_names")
        p = group["params"][index]
        label = names[index] if names else f"param_groups[{group_index}]['params'][{index}]"
        return f"{label} (shape {tuple(p.shape)}, {p.dtype})"

    def _guard(self) -> set[int]:
        """Indices of groups to skip this step; raises for ``nonfinite="raise"``."""
        skip = set()
        for gi, group in enumerate(self.param_groups):
            mode = group.get("nonfinite")
            if mode is None:
                continue
            idx = [i for i, p in enumerate(group["params"]) if p.grad is not None]
            grads = [group["params"][i].grad for i in idx]
            if not grads:
                continue
            finite = [bool(torch.isfinite(_stored_values(g)).all()) for g in grads]
            if all(finite):
                continue
            if mode == "raise":
                bad = idx[finite.index(False)]
                raise NonFiniteGradientError(
                    f"non-finite gradient (NaN or inf) for {self._param_name(gi, bad)}; "
                    "nothing was modified (nonfinite='raise')")
            skip.add(gi)
        return skip

    def _collect(self, gi: int, group: dict[str, Any]) -> tuple[list[Tensor], list[Tensor], list[dict]]:
        """The group's params that have a gradient, their (dense) gradients and their state dicts.

        C-level passes (``map``) rather than a Python loop: with many tensors this is on the hot path."""
        params = group["params"]
        grads = list(map(_GRAD, params))
        index = range(len(params))
        if any(map(_IS_NONE, grads)):
            index = [i for i, g in enumerate(grads) if g is not None]
            params, grads = [params[i] for i in index], [grads[i] for i in index]
        if set(map(_LAYOUT, grads)) - {torch.strided}:
            grads = [g if g.layout is torch.strided else self.spec.dense_grad(g, self._param_name(gi, i))
                     for i, g in zip(index, grads)]
        return list(params), grads, list(map(self.state.__getitem__, params))

    def step(self, closure=None):  # type: ignore[override]
        """Perform one optimization step. ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        skip = self._guard()
        if skip:
            self.skipped_steps += 1
        used = []
        for gi, group in enumerate(self.param_groups):
            if gi in skip:
                continue
            params, grads, states = self._collect(gi, group)
            if params:
                used.append(engine.step_group(self.recipe(group), params, grads, states,
                                              group["impl"], group["maximize"]))
        self.last_impl = used
        return loss
