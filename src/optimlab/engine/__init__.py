"""The engine: runs one param group's rule over its tensors, by the implementation the group asks for.

It owns every policy that is not an optimizer's math: state creation and ``step`` (:mod:`.state`),
buckets, ``maximize`` without touching ``p.grad``, complex parameters as real views and fp16/bf16 computed in
fp32 (:mod:`.chain`), and the choice of implementation (:mod:`.backends`): ``"reference"`` (tensor by
tensor), ``"foreach"`` (multi-tensor), ``"fused"`` (the generated kernel for the device: numba on CPU,
Triton on CUDA) and ``"triton"``; ``"auto"`` takes the first backend that fits each bucket and records why
the others were passed over. Every implementation runs the same rule.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from optimlab.engine.backends import BACKENDS, BY_NAME, Backend
from optimlab.engine.backends.kernel import KERNEL_BACKENDS, backend_for
from optimlab.engine.job import Job, Rule
from optimlab.engine.plan import Plan
from optimlab.engine.state import (Bucket, counts_steps, group_steps, make_buckets, scalar_slot_names, slot_names,
                                   undo_state)

KERNEL_DEVICES = [d for b in KERNEL_BACKENDS for d in b.auto_devices]
IMPLS = ("auto", "reference", "foreach", "fused", "triton")
"""Every value of ``impl``: ``"fused"`` is the generated kernel of the tensors' device."""


def impl_names() -> tuple[str, ...]:
    return IMPLS


def resolve(impl: str, bucket: Bucket, job: Job) -> tuple[Backend, str]:
    """The backend that runs ``bucket`` and why it was chosen."""
    if impl == "auto":
        reasons = []
        for backend in BACKENDS:
            why_not = backend.unfit(bucket, job)
            if why_not is None:
                return backend, "auto: " + "".join(f"{r}; " for r in reasons) + f"{backend.name} fits"
            reasons.append(f"not {backend.name}: {why_not}")
        raise RuntimeError("auto: no implementation fits: " + "; ".join(reasons))
    if impl == "fused":
        try:
            return backend_for(bucket.device), "requested (fused)"
        except ValueError as exc:
            raise RuntimeError(f"`fused=True` requires all the params to be floating point Tensors of supported "
                               f"devices: {KERNEL_DEVICES} but {bucket.dtype} and {bucket.device.type} "
                               f"(impl='fused': {exc})") from None
    return BY_NAME[impl], "requested"


def step_group(job: Job, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]],
               impl: str, plans: dict | None = None, key: Any = None) -> list[tuple[str, str]]:
    """One optimizer step for one group; returns the (implementation, reason) used per bucket.

    With ``plans``, a step that ran the whole group through one generated kernel, with nothing created,
    leaves a :class:`Plan` under ``plans[key]`` for the next step (:func:`step_planned`)."""
    used = []
    chain = job.chain
    counted = group_steps(chain)
    if counted:
        job.group["step"] = job.group.get("step", 0) + 1
    with torch.set_grad_enabled(job.differentiable):
        buckets = make_buckets(chain, params, grads, states, group_step=float(job.group["step"]) if counted else None)
        for k, bucket in enumerate(buckets):
            try:
                backend, reason = (BY_NAME["reference"], "differentiable=True") if job.differentiable \
                    else resolve(impl, bucket, job)
                backend.run(bucket, job)
            except Exception:  # e.g. impl="fused" refusing a tensor: leave this and later buckets as they were
                undo_state(chain, buckets[k:])
                if counted and k == 0:
                    job.group["step"] -= 1
                raise
            used.append((backend.name, reason))
    if plans is not None:
        plans.pop(key, None)
        ran = buckets[0].prepared.get("ran") if len(buckets) == 1 else None
        if ran is not None and not any(buckets[0].fresh) and not ran[0].staged and len(params) == len(buckets[0].params):
            table, program, kernel = ran
            plans[key] = Plan(job, impl, used[0], params, states, slot_names(chain), scalar_slot_names(chain),
                              counts_steps(chain), table, program, kernel, group_steps(chain))
    return used


def step_planned(plans: dict, key: Any, group: dict[str, Any], state: dict, impl: str) -> list[tuple[str, str]] | None:
    """The step of ``group`` through its plan, or None when there is none or it no longer applies."""
    plan = plans.get(key)
    if plan is None or job_is_differentiable(group):
        return None
    return plan.used if plan.run(group, state, impl) else None  # the kernel writes memory: no autograd ops


def job_is_differentiable(group: dict[str, Any]) -> bool:
    return bool(group.get("differentiable", False))


__all__ = ["BACKENDS", "Backend", "Bucket", "IMPLS", "Job", "Plan", "Rule", "impl_names", "resolve", "step_group",
           "step_planned"]
