"""Optimizer state and buckets: what every engine implementation shares before it runs a rule.

* **state**: each transform's slots are created lazily, under torch.optim's key names, for parameters that
  have a gradient; ``step`` only where a transform keeps one (as torch: its SGD keeps none).
* **buckets**: tensors of one group are grouped by (device, dtype, step, which state is new, scalar
  state), so every step-dependent quantity is one number per bucket.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Sequence

import torch
from torch import Tensor

from optimlab.engine import scalars as scalar_state
from optimlab.rules import Chain

LOW_PRECISION = (torch.float16, torch.bfloat16)


def scalar_dtype() -> torch.dtype:
    """dtype of ``step`` and other scalar state, as torch.optim chooses it."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def slot_names(chain: Chain) -> list[str]:
    """Names of the chain's per-parameter state buffers, in chain order, without repeats."""
    return list(dict.fromkeys(s.name for t in chain for s in t.slots))


def scalar_slot_names(chain: Chain) -> list[str]:
    return list(dict.fromkeys(s.name for t in chain for s in t.scalar_slots))


def counts_steps(chain: Chain) -> bool:
    """Whether the chain keeps a per-parameter ``step`` tensor (torch.optim's way)."""
    return any(t.step_counter is True for t in chain)


def group_steps(chain: Chain) -> bool:
    """Whether the chain counts steps in its param group's ``step`` (an integer, as third-party optimizers do)."""
    return any(t.step_counter == "group" for t in chain)


@dataclass
class Bucket:
    """Tensors of one group that are updated together: one device, dtype, step and scalar state."""

    params: list[Tensor]
    grads: list[Tensor]
    states: list[dict[str, Any]]
    step: float | None
    fresh: tuple[bool, ...]
    scalars: dict[str, float]
    chain: Chain = ()
    prepared: dict[str, Any] = field(default_factory=dict)
    """Per-step scratch an implementation's check may fill for its runner (e.g. a table of addresses)."""

    @property
    def device(self) -> torch.device:
        return self.params[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.params[0].dtype


def init_state(chain: Chain, param: Tensor, state: dict[str, Any]) -> tuple[bool, ...]:
    """Create missing state for ``param``; return, per transform, whether its state is new."""
    if counts_steps(chain) and "step" not in state:
        state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
    fresh = []
    for transform in chain:
        new = False
        for slot in transform.slots:
            if slot.name not in state:
                fill = complex(slot.init, slot.init) if param.is_complex() else slot.init
                state[slot.name] = torch.full_like(param, fill, memory_format=torch.preserve_format)
                new = True
        for slot in transform.scalar_slots:
            if slot.name not in state:
                state[slot.name] = torch.tensor(slot.init, dtype=scalar_dtype())
                new = True
        fresh.append(new)
    return tuple(fresh)


_is_cpu, _dtype = operator.attrgetter("is_cpu"), operator.attrgetter("dtype")


def make_buckets(chain: Chain, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]],
                 advance: bool = True, group_step: float | None = None) -> list[Bucket]:
    """Create missing state, advance ``step`` (where the chain keeps one per parameter; a group's own count,
    already advanced, comes as ``group_step``), and group the tensors into buckets."""
    stepping = counts_steps(chain)
    scalar_names = scalar_slot_names(chain)
    needed = {*slot_names(chain), *scalar_names, *(("step",) if stepping else ())}
    if all(map(operator.ge, map(dict.keys, states), repeat(needed))):  # steady state: nothing to create
        stale = (False,) * len(chain)
        fresh = [stale] * len(params)
    else:
        fresh = [init_state(chain, p, st) for p, st in zip(params, states)]
    if stepping and states:
        steps = list(map(operator.itemgetter("step"), states))
        step_values = scalar_state.advance(steps) if advance else scalar_state.values(steps)
    else:
        step_values = [group_step] * len(params)
    scalar_values = {n: scalar_state.values(list(map(operator.itemgetter(n), states))) for n in scalar_names}
    # With one step count, one freshness and one value of each scalar state (e.g. NAdam's mu_product in
    # step), only device and dtype split the group.
    uniform = (len(set(step_values)) <= 1 and len(set(fresh)) <= 1
               and all(len(set(v)) <= 1 for v in scalar_values.values()))
    if params and uniform and all(map(_is_cpu, params)) and len(set(map(_dtype, params))) == 1:
        # The usual model (one CPU dtype): one bucket, without a Python loop over the tensors.
        scal = {n: v[0] for n, v in scalar_values.items()}
        return [Bucket(list(params), list(grads), list(states), step_values[0], fresh[0], scal, chain)]
    buckets: dict[tuple, Bucket] = {}
    for i, p in enumerate(params):
        scal = {n: scalar_values[n][i] for n in scalar_names}
        key = (p.device, p.dtype) if uniform else (p.device, p.dtype, step_values[i], fresh[i], tuple(scal.values()))
        b = buckets.get(key)
        if b is None:
            b = buckets[key] = Bucket([], [], [], step_values[i], fresh[i], scal, chain)
        b.params.append(p)
        b.grads.append(grads[i])
        b.states.append(states[i])
    return list(buckets.values())


def undo_state(chain: Chain, buckets: Sequence[Bucket]) -> None:
    """Take back what :func:`make_buckets` did to buckets that were not run: the ``step`` advance and
    the state it created (a param whose first step failed is left with no state at all)."""
    stepping = counts_steps(chain)
    for bucket in buckets:
        created = [name for t, new in zip(chain, bucket.fresh) if new
                   for name in (*(s.name for s in t.slots), *(s.name for s in t.scalar_slots))]
        for state in bucket.states:
            if stepping:
                state["step"].sub_(1)
            for name in created:
                state.pop(name, None)
            if stepping and not state["step"]:
                del state["step"]
