"""``impl="reference"``: the rule tensor by tensor with torch's per-tensor operations — the ground truth."""

from __future__ import annotations

from optimlab.engine.backends import Backend
from optimlab.engine.chain import run_bucket
from optimlab.rules import AutogradOps, LoopOps


class Reference(Backend):
    name = "reference"

    def run(self, bucket, job):
        ops = AutogradOps if job.differentiable else LoopOps
        run_bucket(ops, job.chain, bucket, job.maximize, per_tensor=True, differentiable=job.differentiable)


REFERENCE = Reference()
