"""The engine: runs a chain of transforms over one param group's tensors.

It owns every policy that is not an optimizer's math:

* **state**: lazily creates each transform's slots (torch's key names) and ``step`` for parameters
  that have a gradient; a parameter without one neither moves nor gets state.
* **buckets**: tensors are grouped by (device, dtype, step, which state is new, scalar state), so
  every step-dependent quantity is one Python float per bucket.
* **maximize**: the chain starts from ``-grad``; ``p.grad`` is never written.
* **complex** parameters are processed as real views; **low precision** (fp16/bf16) parameters and
  state are computed in fp32 and written back in their own dtype.
* **impl**: ``"reference"`` runs the chain tensor by tensor with :class:`~optimlab.core.ops.LoopOps`;
  ``"foreach"`` runs it once per bucket with :class:`~optimlab.core.ops.ForeachOps`; ``"fused"``
  (:mod:`optimlab.core.fused`, CPU) and ``"triton"`` (CUDA) trace it into one generated kernel per
  bucket. Further implementations plug in through :func:`register_impl`; every one runs the same
  chain through :func:`apply_chain`. ``"auto"`` takes the first registered implementation whose check
  accepts the bucket (fused, triton, then foreach), and records why the others were passed over.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import Tensor

from optimlab.core.ops import ForeachOps, LoopOps
from optimlab.core.transform import Chain, Context

LOW_PRECISION = (torch.float16, torch.bfloat16)

# name -> runner(chain, bucket, group) ; "auto" is resolved by resolve_impl().
_IMPLS: dict[str, Callable[..., None]] = {}
# Ordered preferences for "auto": (name, predicate(bucket) -> reason-it-cannot-run or None).
_AUTO: list[tuple[str, Callable[["Bucket"], str | None]]] = []


def scalar_dtype() -> torch.dtype:
    """dtype of ``step`` and other scalar state, as torch.optim chooses it."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


@dataclass
class Bucket:
    """Tensors of one group that can be updated together."""

    params: list[Tensor]
    grads: list[Tensor]
    states: list[dict[str, Any]]
    step: int
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


def register_impl(name: str, runner: Callable[..., None], auto_check: Callable[[Bucket], str | None] | None = None,
                  priority: int | None = None) -> None:
    """Add an implementation. With ``auto_check``, ``impl="auto"`` prefers it when the check returns None."""
    _IMPLS[name] = runner
    if auto_check is not None:
        entry = (name, auto_check)
        _AUTO.insert(len(_AUTO) if priority is None else priority, entry)


def impl_names() -> tuple[str, ...]:
    return ("auto", *_IMPLS)


def resolve_impl(impl: str, bucket: Bucket) -> tuple[str, str]:
    """The implementation that runs ``bucket`` and why it was chosen."""
    if impl != "auto":
        return impl, "requested"
    reasons = []
    for name, check in _AUTO:
        why_not = check(bucket)
        if why_not is None:
            return name, "auto: " + ("; ".join(reasons) + "; " if reasons else "") + f"{name} fits"
        reasons.append(f"not {name}: {why_not}")
    return "reference", "auto: " + "; ".join(reasons)


# -- running a chain ------------------------------------------------------------------------------

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


def apply_chain(ops: Any, chain: Chain, params: Sequence[Any], grads: Sequence[Any], slots: dict[str, Sequence[Any]],
                states: Sequence[dict[str, Any]], step: int, fresh: Sequence[bool], scalars: dict[str, float],
                maximize: bool) -> None:
    """The step every implementation shares: ``u = ±grad``, each transform in turn, then ``params += u``.

    ``params``, ``grads`` and ``slots`` (slot name -> list) are whatever ``ops`` works on: real
    tensors for :class:`LoopOps` / :class:`ForeachOps`, symbols for the fused tracer.
    """
    u = ops.neg(grads) if maximize else grads
    for transform, is_fresh in zip(chain, fresh):
        ctx = Context(
            params=params,
            state={s.name: slots[s.name] for s in transform.slots},
            step=step,
            fresh=is_fresh,
            scalars={s.name: (list(map(operator.itemgetter(s.name), states)), scalars[s.name])
                     for s in transform.scalar_slots},
        )
        u = transform.apply(ops, u, ctx)
    ops.add_(params, u)


def slot_names(chain: Chain) -> list[str]:
    """Names of the chain's per-parameter state buffers, in chain order, without repeats."""
    return list(dict.fromkeys(s.name for t in chain for s in t.slots))


def run_chain(ops: Any, chain: Chain, params: Sequence[Tensor], grads: Sequence[Tensor],
              states: Sequence[dict[str, Any]], step: int, fresh: Sequence[bool], scalars: dict[str, float],
              maximize: bool) -> None:
    """Apply ``chain`` to one bucket with the list operations ``ops``, then add the update to the params."""
    p_work, p_real = _working(params)
    u, _ = _working(grads)
    slot_work = {name: _working(st[name] for st in states) for name in slot_names(chain)}
    apply_chain(ops, chain, p_work, u, {name: work for name, (work, _) in slot_work.items()}, states, step, fresh,
                scalars, maximize)
    _write_back(p_work, p_real)
    for work, real in slot_work.values():
        _write_back(work, real)


def _run_reference(chain: Chain, bucket: Bucket, maximize: bool) -> None:
    for i in range(len(bucket.params)):
        run_chain(LoopOps, chain, bucket.params[i:i + 1], bucket.grads[i:i + 1], bucket.states[i:i + 1],
                  bucket.step, bucket.fresh, bucket.scalars, maximize)


def _run_foreach(chain: Chain, bucket: Bucket, maximize: bool) -> None:
    run_chain(ForeachOps, chain, bucket.params, bucket.grads, bucket.states, bucket.step, bucket.fresh,
              bucket.scalars, maximize)


def _foreach_fits(bucket: Bucket) -> str | None:
    if bucket.device.type not in ("cpu", "cuda"):
        return f"device {bucket.device.type} has no foreach kernels"
    if any(type(p) is not torch.Tensor and not isinstance(p, torch.nn.Parameter) for p in bucket.params):
        return "a tensor subclass"
    return None


register_impl("reference", _run_reference)
register_impl("foreach", _run_foreach, _foreach_fits)


# -- state and buckets ----------------------------------------------------------------------------

def init_state(chain: Chain, param: Tensor, state: dict[str, Any]) -> tuple[bool, ...]:
    """Create missing state for ``param``; return, per transform, whether its state is new."""
    if "step" not in state:
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


def _values(ts: list[Tensor]) -> list[float]:
    from optimlab.core import fused

    values = fused.scalar_values(ts) if ts and fused.available() else None
    if values is not None:
        return values
    try:
        return torch.stack(ts).tolist() if len(ts) > 1 else [t.item() for t in ts]
    except RuntimeError:  # mixed devices or dtypes after loading a checkpoint
        return [t.item() for t in ts]


def _advance_steps(steps: list[Tensor]) -> list[float]:
    """Add 1 to every ``step`` tensor; return the new values.

    With numba, one compiled call walks the tensors' addresses (``torch._foreach_add_`` on 0-d CPU
    tensors dispatches once per tensor, microseconds each); otherwise the foreach op.
    """
    from optimlab.core import fused

    values = fused.advance_steps(steps) if fused.available() else None
    if values is not None:
        return values
    torch._foreach_add_(steps, 1.0)
    return _values(steps)


_is_cpu, _dtype = operator.attrgetter("is_cpu"), operator.attrgetter("dtype")


def make_buckets(chain: Chain, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]) -> list[Bucket]:
    """Create missing state, advance ``step``, and group the tensors into buckets."""
    needed = {"step", *slot_names(chain), *(s.name for t in chain for s in t.scalar_slots)}
    if all(map(operator.ge, map(dict.keys, states), repeat(needed))):  # steady state: nothing to create
        stale = (False,) * len(chain)
        fresh = [stale] * len(params)
    else:
        fresh = [init_state(chain, p, st) for p, st in zip(params, states)]
    step_values = _advance_steps(list(map(operator.itemgetter("step"), states))) if states else []
    scalar_names = [s.name for t in chain for s in t.scalar_slots]
    scalar_values = {n: _values(list(map(operator.itemgetter(n), states))) for n in scalar_names}
    # With one step count, one freshness and one value of each scalar state (e.g. NAdam's mu_product in
    # step), only device and dtype split the group.
    uniform = (len(set(step_values)) <= 1 and len(set(fresh)) <= 1
               and all(len(set(v)) <= 1 for v in scalar_values.values()))
    if params and uniform and all(map(_is_cpu, params)) and len(set(map(_dtype, params))) == 1:
        # The usual model (one CPU dtype): one bucket, without a Python loop over the tensors.
        scal = {n: v[0] for n, v in scalar_values.items()}
        return [Bucket(list(params), list(grads), list(states), int(step_values[0]), fresh[0], scal, chain)]
    buckets: dict[tuple, Bucket] = {}
    for i, p in enumerate(params):
        if uniform:
            scal, key = {n: v[i] for n, v in scalar_values.items()}, (p.device, p.dtype)
        else:
            scal = {n: scalar_values[n][i] for n in scalar_names}
            key = (p.device, p.dtype, step_values[i], fresh[i], tuple(scal.values()))
        b = buckets.get(key)
        if b is None:
            b = buckets[key] = Bucket([], [], [], int(step_values[i]), fresh[i], scal, chain)
        b.params.append(p)
        b.grads.append(grads[i])
        b.states.append(states[i])
    return list(buckets.values())


def step_group(chain: Chain, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]],
               impl: str, maximize: bool) -> list[tuple[str, str]]:
    """One optimizer step for one group; returns the (impl, reason) used per bucket."""
    used = []
    with torch.no_grad():
        buckets = make_buckets(chain, params, grads, states)
        for k, bucket in enumerate(buckets):
            name, reason = resolve_impl(impl, bucket)
            try:
                _IMPLS[name](chain, bucket, maximize)
            except Exception:  # e.g. impl="fused" refusing a tensor: leave this and later buckets as they were
                _undo_state(chain, buckets[k:])
                raise
            used.append((name, reason))
    return used


def _undo_state(chain: Chain, buckets: Sequence[Bucket]) -> None:
    """Take back what :func:`make_buckets` did to buckets that were not run: the ``step`` advance and
    the state it created (a param whose first step failed is left with no state at all)."""
    for bucket in buckets:
        created = [name for t, new in zip(chain, bucket.fresh) if new
                   for name in (*(s.name for s in t.slots), *(s.name for s in t.scalar_slots))]
        for state in bucket.states:
            state["step"].sub_(1)
            for name in created:
                state.pop(name, None)
            if not state["step"]:
                del state["step"]


def _register_fused() -> None:
    from optimlab.core.fused import runner

    register_impl("fused", runner.run, runner.fits, priority=0)
    register_impl("triton", runner.run_triton, runner.fits_triton, priority=1)


_register_fused()
