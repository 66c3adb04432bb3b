"""The engine: runs one param group's rule over its tensors, by the implementation the group asks for.

It owns every policy that is not an optimizer's math: state creation and ``step`` (:mod:`.state`),
buckets, ``maximize`` without touching ``p.grad``, complex parameters as real views and fp16/bf16 computed in
fp32 (:mod:`.chain`), and the choice of implementation (:mod:`.backends`): ``"reference"`` (tensor by
tensor), ``"foreach"`` (multi-tensor), ``"fused"`` (the generated kernel for the device: numba on CPU,
Triton on CUDA) and ``"triton"``; ``"auto"`` takes the first backend that fits each bucket and records why
the others were passed over. Every implementation runs the same rule.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from optimlab.engine.backends import BACKENDS, BY_NAME, Backend
from optimlab.engine.backends.kernel import backend_for
from optimlab.engine.job import Job, Rule
from optimlab.engine.state import Bucket, make_buckets, undo_state

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
            raise RuntimeError(f"impl='fused' (fused=True): {exc}") from None
    return BY_NAME[impl], "requested"


def step_group(job: Job, params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]],
               impl: str) -> list[tuple[str, str]]:
    """One optimizer step for one group; returns the (implementation, reason) used per bucket."""
    used = []
    chain = job.chain
    with torch.set_grad_enabled(job.differentiable):
        buckets = make_buckets(chain, params, grads, states)
        for k, bucket in enumerate(buckets):
            try:
                backend, reason = (BY_NAME["reference"], "differentiable=True") if job.differentiable \
                    else resolve(impl, bucket, job)
                backend.run(bucket, job)
            except Exception:  # e.g. impl="fused" refusing a tensor: leave this and later buckets as they were
                undo_state(chain, buckets[k:])
                raise
            used.append((backend.name, reason))
    return used


__all__ = ["BACKENDS", "Backend", "Bucket", "IMPLS", "Job", "Rule", "impl_names", "resolve", "step_group"]
