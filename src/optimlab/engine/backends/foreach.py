"""``impl="foreach"``: the rule with one ``torch._foreach_*`` call per operation over the whole bucket."""

from __future__ import annotations

import torch

from optimlab.engine.backends import Backend
from optimlab.engine.chain import run_bucket
from optimlab.rules import ForeachOps


class Foreach(Backend):
    name = "foreach"
    auto_devices = ("cpu", "cuda")

    def unfit(self, bucket, job):
        if bucket.device.type not in ("cpu", "cuda"):
            return f"device {bucket.device.type} has no foreach kernels"
        if any(type(p) is not torch.Tensor and not isinstance(p, torch.nn.Parameter) for p in bucket.params):
            return "a tensor subclass"
        if job.differentiable:
            return "torch's foreach operations do not support autograd (differentiable=True)"
        return None

    def run(self, bucket, job):
        run_bucket(ForeachOps, job.chain, bucket, job.maximize, per_tensor=False)


FOREACH = Foreach()
