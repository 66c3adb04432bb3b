"""Running a chain: the step every implementation shares.

``u = ±grad``, each transform in turn, the last writing the parameters. Complex parameters are processed as
real views; low-precision (fp16/bf16) parameters and state are computed in fp32 and written back in their own
dtype. ``p.grad`` is never written.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterable, Sequence

from torch import Tensor

import torch

from optimlab.engine import scalars as scalar_state
from optimlab.engine.state import LOW_PRECISION, Bucket, slot_names
from optimlab.rules import Chain, Context


def apply_chain(ops: Any, chain: Chain, params: Sequence[Any], grads: Sequence[Any], slots: dict[str, Sequence[Any]],
                step: Any, fresh: Sequence[bool], scalars: dict[str, Any], scale: Callable[[str, Any], Any] | None,
                maximize: bool, assign: Callable[[str, Any], Any] | None = None) -> None:
    """Apply ``chain`` with the list operations ``ops`` to whatever they work on: real tensors (reference,
    foreach, autograd) or symbols (the tracer)."""
    u = ops.neg(grads) if maximize else grads
    scalars = dict(scalars)
    for transform, is_fresh in zip(chain, fresh):
        ctx = Context(params, {s.name: slots[s.name] for s in transform.slots}, step, is_fresh, scalars, scale, assign)
        u = transform.apply(ops, u, ctx)
    if u is not None:
        raise TypeError("a chain must end with the link that writes the parameters (optimlab.transforms.Descend)")


def _as_real(t: Tensor) -> Tensor:
    return torch.view_as_real(t) if t.is_complex() else t


def _working(ts: Iterable[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """Real views of ``ts`` in the compute dtype, and the originals (for the write-back)."""
    real = [_as_real(t) for t in ts]
    work = [t.float() if t.dtype in LOW_PRECISION else t for t in real]
    return work, real


def _write_back(work: Sequence[Tensor], real: Sequence[Tensor]) -> None:
    for w, r in zip(work, real):
        if w is not r:
            r.copy_(w)


def _concrete_scale(states: Sequence[dict[str, Any]]) -> Callable[[str, Any], float]:
    return lambda name, factor: scalar_state.scale(list(map(operator.itemgetter(name), states)), factor)


def _tensor_scale(states: Sequence[dict[str, Any]]) -> Callable[[str, Any], Tensor]:
    def scale(name, factor):
        for st in states:
            st[name].mul_(factor)
        return states[0][name]
    return scale


def _concrete_assign(states: Sequence[dict[str, Any]]) -> Callable[[str, Any], float]:
    return lambda name, value: scalar_state.assign(list(map(operator.itemgetter(name), states)), value)


def _tensor_assign(states: Sequence[dict[str, Any]]) -> Callable[[str, Any], Tensor]:
    def assign(name, value):
        for st in states:
            st[name].copy_(value) if isinstance(value, Tensor) else st[name].fill_(value)
        return states[0][name]
    return assign


def run_chain(ops: Any, chain: Chain, params: Sequence[Tensor], grads: Sequence[Tensor],
              states: Sequence[dict[str, Any]], step: Any, fresh: Sequence[bool], scalars: dict[str, Any],
              maximize: bool, differentiable: bool = False) -> None:
    """Apply ``chain`` to real tensors with ``ops``, in working views, and write the results back."""
    p_work, p_real = _working(params)
    u, _ = _working(grads)
    slot_work = {name: _working(st[name] for st in states) for name in slot_names(chain)}
    scale = _tensor_scale(states) if differentiable else _concrete_scale(states)
    assign = _tensor_assign(states) if differentiable else _concrete_assign(states)
    if differentiable:
        ops = ops([*p_work, *(t for work, _ in slot_work.values() for t in work)])
    apply_chain(ops, chain, p_work, u, {name: work for name, (work, _) in slot_work.items()}, step, fresh, scalars,
                scale, maximize, assign)
    _write_back(p_work, p_real)
    for work, real in slot_work.values():
        _write_back(work, real)


def run_bucket(ops: Any, chain: Chain, bucket: Bucket, maximize: bool, per_tensor: bool,
               differentiable: bool = False) -> None:
    """Run a bucket with ``ops``: all tensors at once, or one tensor at a time (the reference)."""
    if not per_tensor:
        run_chain(ops, chain, bucket.params, bucket.grads, bucket.states, bucket.step, bucket.fresh, bucket.scalars,
                  maximize, differentiable)
        return
    for i in range(len(bucket.params)):
        scalars = bucket.scalars
        if differentiable:
            scalars = {name: bucket.states[i][name] for name in bucket.scalars}
        run_chain(ops, chain, bucket.params[i:i + 1], bucket.grads[i:i + 1], bucket.states[i:i + 1], bucket.step,
                  bucket.fresh, scalars, maximize, differentiable)
