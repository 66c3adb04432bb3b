"""The steady state of a group: what a generated-kernel step needs besides the gradients and the numbers.

After a step that ran one bucket through a generated kernel with nothing created (the usual case from the
second step on), the engine keeps a :class:`Plan`: the parameters and state tensors, their address table,
the traced program, its kernel and the step counters. The next step re-checks, with C-level passes over the
tensors, everything that could have changed — the same parameter objects at the same addresses, every
state tensor the same object at the same address, gradients present, plain, contiguous — reads the
gradients' addresses, re-evaluates the program's scalars for this step and these hyperparameters (a guard
that no longer holds, a changed flag or implementation: the plan declines), and calls the kernel once.
Anything the checks do not accept runs the general path, which builds a new plan. ``load_state_dict``
drops every plan.
"""

from __future__ import annotations

import itertools
from operator import attrgetter, is_, itemgetter
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.autograd.graph import increment_version

from optimlab.engine import scalars as scalar_state
from optimlab.engine.job import Job
from optimlab.engine.trace import Program

_GRAD = attrgetter("grad")
_data_ptr, _is_contiguous = Tensor.data_ptr, Tensor.is_contiguous
_PLAIN = {Tensor, torch.nn.Parameter}


def _addresses(ts: Sequence[Tensor]) -> bytes:
    return np.fromiter(map(_data_ptr, ts), np.int64, len(ts)).tobytes()


class Plan:
    """One group's steady-state step through a generated kernel (see the module docstring)."""

    def __init__(self, job: Job, impl: str, used: tuple[str, str], params: list[Tensor], states: list[dict],
                 slots: Sequence[str], scalar_slots: Sequence[str], counts_steps: bool, table: Any,
                 program: Program, kernel: Callable, group_steps: bool = False) -> None:
        self.rule, self.impl, self.used = job.rule, impl, [used]
        self.flags = itemgetter(*job.rule.flags)(job.group) if job.rule.flags else ()
        self.numbers = job.rule.numbers
        self.absent = tuple(job.group[k] is None for k in self.numbers)  # optional numbers left None
        self.params, self.n = list(params), len(params)
        self.param_addrs = _addresses(params)
        self.columns = {name: list(map(itemgetter(name), states)) for name in slots}
        self.column_addrs = {name: _addresses(ts) for name, ts in self.columns.items()}
        self.steps = list(map(itemgetter("step"), states)) if counts_steps else None
        self.group_steps = group_steps
        self.scalar_columns = {name: list(map(itemgetter(name), states)) for name in scalar_slots}
        every = {**self.scalar_columns, **({"step": self.steps} if self.steps is not None else {})}
        self.scalar_tensors = list(itertools.chain.from_iterable(every.values()))
        self.scalar_addrs = _addresses(self.scalar_tensors)
        self.bound = {name: scalar_state.bind(ts) for name, ts in every.items()}
        self.table, self.program, self.kernel = table, program, kernel
        self.written = [c for c, _ in program.stores()]
        self.written_tensors = list(itertools.chain.from_iterable(table.columns[c] for c in self.written
                                                                  if c != 1))
        self.addrs = table.addrs.copy()
        self.device = params[0].device
        self.flag_getter = itemgetter(*job.rule.flags) if job.rule.flags else (lambda g: ())
        dtype = self.steps[0].dtype if self.steps else None
        self.next_step = (lambda s: float(np.float32(s) + np.float32(1))) if dtype == torch.float32 else \
            (lambda s: s + 1.0)

    def run(self, group: dict[str, Any], state: dict, impl: str) -> bool:
        """One step of ``group`` if nothing has changed that the plan depends on; False (having done nothing)
        otherwise."""
        ps = group["params"]
        if impl != self.impl or len(ps) != self.n or not all(map(is_, ps, self.params)):
            return False
        try:
            if self.flag_getter(group) != self.flags:
                return False
            if tuple(group[k] is None for k in self.numbers) != self.absent:
                return False
        except KeyError:
            return False
        grads = list(map(_GRAD, ps))
        if not set(map(type, grads)) <= _PLAIN:  # also catches None
            return False
        try:
            if not all(map(_is_contiguous, grads)):
                return False
        except RuntimeError:  # a sparse gradient
            return False
        if _addresses(ps) != self.param_addrs:
            return False
        stateful = self.columns or self.scalar_columns or self.steps is not None
        states = list(map(state.get, ps)) if stateful else []
        if None in states:
            return False
        try:
            for name, cached in self.columns.items():
                now = list(map(itemgetter(name), states))
                if not all(map(is_, now, cached)) or _addresses(now) != self.column_addrs[name]:
                    return False
            for name, cached in self.scalar_columns.items():
                if not all(map(is_, map(itemgetter(name), states), cached)):
                    return False
            if self.steps is not None and not all(map(is_, map(itemgetter("step"), states), self.steps)):
                return False
        except KeyError:
            return False
        if self.scalar_tensors and _addresses(self.scalar_tensors) != self.scalar_addrs:
            return False
        bound = self.bound
        values = {name: bound[name].values() for name in self.scalar_columns}
        if any(len(set(v)) != 1 for v in values.values()):
            return False
        step = None
        if self.steps is not None:
            current = bound["step"].values()
            if len(set(current)) != 1:
                return False
            step = self.next_step(current[0])
        elif self.group_steps:
            step = float(group["step"] + 1)
        result = self.program.evaluate(group, step, {k: v[0] for k, v in values.items()})
        if result is None:
            return False
        args, writes = result
        if self.steps is not None:
            bound["step"].advance()
        elif self.group_steps:
            group["step"] += 1
        for (name, _), value in zip(self.program.writes, writes):
            bound[name].assign(value)
        self.addrs[:, 1] = np.fromiter(map(_data_ptr, grads), np.int64, self.n)
        self.kernel(self.addrs, self.table.sizes, np.array(args, dtype=self.program.dtype), self.device)
        increment_version(self.written_tensors)
        return True
