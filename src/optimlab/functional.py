"""Functional API: one optimizer step on tensors and per-parameter state that the caller holds.

Each registry optimizer is available as a function with the same hyperparameters as its class::

    from optimlab import functional as F
    states = [{} for _ in params]            # keep these between steps
    F.adam(params, grads, states, lr=1e-3)   # updates params and states in place

States use torch.optim's keys (``step``, ``exp_avg``, …) and are created on first use. The math is the
class's own recipe run by the same engine; nothing here restates an update rule.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import torch
from torch import Tensor

from optimlab import engine, registry
from optimlab.engine.state import group_steps


def _group_uncached(optimizer: str, hypers: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    # The class itself resolves defaults, fixed options (e.g. NAG's nesterov) and validation.
    opt = registry.get(optimizer).make([torch.zeros(0)], **dict(hypers))
    return {k: v for k, v in opt.param_groups[0].items() if k != "params"}


_group_cached = lru_cache(maxsize=256)(_group_uncached)


def group_for(optimizer: str, **hypers: Any) -> dict[str, Any]:
    """The validated param-group dict the class would build for these hyperparameters."""
    items = tuple(sorted(hypers.items()))
    try:
        hash(items)
    except TypeError:  # unhashable values, e.g. a list of betas: not cached
        return _group_uncached(optimizer, items)
    return dict(_group_cached(optimizer, items))


def step(optimizer: str, params: Sequence[Tensor], grads: Sequence[Tensor | None],
         states: Sequence[dict[str, Any]], **hypers: Any) -> None:
    """Apply one step of registry optimizer ``optimizer`` in place. Params with a ``None`` grad are skipped."""
    if not (len(params) == len(grads) == len(states)):
        raise ValueError(f"params, grads and states must have the same length, got {len(params)}, {len(grads)}, "
                         f"{len(states)}")
    group = group_for(optimizer, **hypers)
    cls = registry.get(optimizer).cls
    live = [i for i, g in enumerate(grads) if g is not None]
    if not live:
        return
    job = cls.job(group)
    counted = group_steps(job.chain)
    if counted:  # an optimizer that counts steps per group (third-party style): the count lives in the states
        group["step"] = states[live[0]].get("step", 0)
    engine.step_group(job, [params[i] for i in live], [cls.dense_grad(grads[i], f"grads[{i}]") for i in live],
                      [states[i] for i in live], cls.impl_of(group))
    if counted:
        for i in live:
            states[i]["step"] = group["step"]


def _bind(name: str):
    spec = registry.get(name)

    def fn(params: Sequence[Tensor], grads: Sequence[Tensor | None], states: Sequence[dict[str, Any]],
           **hypers: Any) -> None:
        step(name, params, grads, states, **hypers)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Functional {spec.title}: ``{name}(params, grads, states, **hypers)``; hyperparameters and "
                  f"defaults as :class:`optimlab.{spec.title}`.\n\n" + (spec.cls.__doc__ or ""))
    return fn


for _name in registry.names():
    globals()[_name] = _bind(_name)

__all__ = ["step", "group_for", *registry.names()]
