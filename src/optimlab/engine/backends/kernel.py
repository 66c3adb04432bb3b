"""The generated-kernel backends: ``impl="fused"`` (numba, CPU) and ``impl="triton"`` (CUDA).

Both run the traced program (:mod:`optimlab.engine.trace`) through a :class:`KernelBackend` — its code
generator and launch; everything else here is shared. :meth:`KernelBackend.unfit` (the ``"auto"`` check)
validates every tensor of a bucket — on the backend's device, dense, plain ``torch.Tensor``/``Parameter``,
a supported dtype, state shaped and typed like its parameter — and builds the table of addresses the
kernel walks (no numpy arrays per tensor, no Python loop around the kernel). :meth:`KernelBackend.run`
fetches the program for the rule's structure (traced once, through
:func:`optimlab.engine.chain.apply_chain` as every implementation runs it), re-evaluates its scalar
arguments for this step and these hyperparameters, and calls the kernel once with the table.

Layouts: the kernel walks each row's memory in address order, which is right whenever every tensor of
the row is dense (no gaps, no overlap) with the parameter's strides — contiguous, but also transposed or
permuted parameters with their gradients and state, which follow the parameter's layout. Those run in
place. A row with a tensor of another layout (a strided slice, a gradient assigned in another layout) is
*staged*: after the kernel has run every other row, such rows run one at a time through copies of their
odd tensors, so a step's temporaries are at most one row's copies — never more than a few buffers the
size of that one parameter, and none at all for dense layouts.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch.autograd.graph import increment_version

from optimlab.engine import scalars as scalar_state
from optimlab.engine.backends import Backend, columns
from optimlab.engine.backends import numba as numba_backend
from optimlab.engine.backends.triton import launcher as triton_launcher
from optimlab.engine.chain import apply_chain
from optimlab.engine.job import Job
from optimlab.engine.state import Bucket, counts_steps, group_steps, scalar_dtype, slot_names
from optimlab.engine.trace import Program, TraceOps

# param dtype -> (kernel storage, elements per tensor element)
STORAGE = {
    torch.float32: ("float32", 1), torch.float64: ("float64", 1),
    torch.float16: ("float16", 1), torch.bfloat16: ("bfloat16", 1),
    torch.complex64: ("float32", 2), torch.complex128: ("float64", 2),
}
_PLAIN = (torch.Tensor, torch.nn.Parameter)
_PLAIN_SET = set(_PLAIN)


@dataclass
class Table:
    """What one kernel call walks: addresses (rows: tensors; columns: param, grad, slots) and sizes."""

    storage: str
    buffers: tuple[str, ...]
    addrs: np.ndarray
    sizes: np.ndarray
    columns: list[list[torch.Tensor]]
    staged: dict[int, list[int]] = field(default_factory=dict)
    """row -> columns whose tensor must be copied into the row's layout (the row's size in ``sizes`` is 0:
    the main kernel call skips it; :func:`run` then runs it alone)."""
    row_sizes: dict[int, int] = field(default_factory=dict)
    """The true element counts of the staged rows."""


class Unfit(Exception):
    """A bucket the fused kernel cannot run; the message says why."""


_data_ptr, _numel, _is_contiguous = torch.Tensor.data_ptr, torch.Tensor.numel, torch.Tensor.is_contiguous
_dtype, _is_cpu, _device = attrgetter("dtype"), attrgetter("is_cpu"), attrgetter("device")


def _contiguous(ts: list[torch.Tensor]) -> bool:
    try:
        return all(map(_is_contiguous, ts))
    except RuntimeError:  # some sparse layouts have no is_contiguous
        return False


def _require_plain(ts: list[torch.Tensor], what: str) -> None:
    if not set(map(type, ts)) <= _PLAIN_SET:
        kind = next(type(t).__name__ for t in ts if type(t) not in _PLAIN)
        raise Unfit(f"a {what} is a tensor subclass ({kind})")


def _require_resolved(ts: list[torch.Tensor]) -> None:
    if any(t.is_conj() or t.is_neg() for t in ts):
        raise Unfit("a complex tensor has an unresolved conjugate or negative bit (call .resolve_conj())")


class _Params(NamedTuple):
    """What the parameter column's check finds: element counts (as a list, an array and its bytes, the
    context state columns are checked in) and whether all are contiguous."""

    sizes: list[int]
    counts: np.ndarray
    key: bytes
    contiguous: bool


def _check_params(ts: list[torch.Tensor], is_complex: bool) -> _Params:
    """Plain tensors (resolved, if complex)."""
    _require_plain(ts, "parameter")
    if is_complex:
        _require_resolved(ts)
    sizes = list(map(_numel, ts))
    counts = np.array(sizes, np.int64)
    return _Params(sizes, counts, counts.tobytes(), _contiguous(ts))


def _check_like(ts: list[torch.Tensor], what: str, dtype: torch.dtype, sizes: list[int],
                device: torch.device) -> bool:
    """State must match its parameter in dtype, element count and device (a checkpoint may not);
    returns whether all are contiguous."""
    if set(map(_dtype, ts)) != {dtype}:
        raise Unfit(f"a {what} has a dtype other than its parameter's {dtype}")
    if list(map(_numel, ts)) != sizes:
        raise Unfit(f"a {what} has a shape other than its parameter's")
    if not (all(map(_is_cpu, ts)) if device.type == "cpu" else set(map(_device, ts)) == {device}):
        raise Unfit(f"a {what} is not on its parameter's device {device}")
    if not set(map(type, ts)) <= _PLAIN_SET:
        raise Unfit(f"a {what} is a tensor subclass")
    return _contiguous(ts)


def _dense(t: torch.Tensor) -> bool:
    """Non-overlapping and dense: the elements fill ``numel`` consecutive slots, in some dimension order."""
    expected = 1
    for stride, size in sorted((st, sz) for st, sz in zip(t.stride(), t.shape) if sz != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _stage(ts: list[torch.Tensor], what: str, c: int, params: list[torch.Tensor], addrs: np.ndarray,
           staged: dict[int, list[int]]) -> None:
    """Fill column ``c`` tensor by tensor: in place where the tensor has its row's layout (the parameter's
    strides if the parameter is dense, else contiguous), else the row is marked to be staged."""
    if not all(t.layout is torch.strided for t in ts):
        raise Unfit(f"a {what} is sparse")
    for r, t in enumerate(ts):
        if _in_row_layout(t, params[r]):
            addrs[r, c] = t.data_ptr()
        else:
            staged.setdefault(r, []).append(c)


def _in_row_layout(t: torch.Tensor, p: torch.Tensor) -> bool:
    """Whether ``t`` can be walked in address order beside ``p``: the layout is ``p``'s if ``p`` is dense,
    else contiguous."""
    if t.numel() == 0 or t.is_contiguous() and p.is_contiguous():
        return True
    if _dense(p):
        return t.stride() == p.stride() and _dense(t)
    return t.is_contiguous()


def prepare(bucket: Bucket, slots: list[str], backend: "KernelBackend") -> Table:
    """Validate the bucket and build its :class:`Table`; raises :class:`Unfit` with the reason.

    The bucket already shares one device and dtype. A gradient always has its parameter's dtype,
    shape and device (torch enforces it), so gradients are checked for type and layout only, every
    step (they are usually new tensors). Parameters and state — the same objects step after step —
    are checked in full (state against its parameter: a loaded checkpoint could hold anything) the
    first time each column is seen, then re-checked by identity and address (:mod:`.columns`).
    """
    device, dtype = bucket.device, bucket.dtype
    why = backend.unavailable_reason(device)
    if why:
        raise Unfit(why)
    if dtype not in STORAGE:
        raise Unfit(f"no fused kernel for dtype {dtype}")
    storage, factor = STORAGE[dtype]
    params, grads = bucket.params, bucket.grads
    p_addrs, info = columns.addresses(
        "param", params, dtype, functools.partial(_check_params, is_complex=factor != 1))
    sizes = info.sizes
    _require_plain(grads, "gradient")
    if factor != 1:
        _require_resolved(grads)
    g_contiguous = _contiguous(grads)
    g_addrs = np.fromiter(map(_data_ptr, grads), np.int64, len(grads)) if g_contiguous else None
    found = [("parameter", params, p_addrs, info.contiguous), ("gradient", grads, g_addrs, g_contiguous)]
    context = (dtype, info.key, device)
    for name in slots:
        ts = list(map(itemgetter(name), bucket.states))
        what = f"state {name!r}"
        s_addrs, contiguous = columns.addresses(
            name, ts, context, functools.partial(_check_like, what=what, dtype=dtype, sizes=sizes, device=device))
        found.append((what, ts, s_addrs, contiguous))
    addrs = np.empty((len(params), len(found)), np.int64)
    staged: dict[int, list[int]] = {}
    if not all(contiguous for _, _, _, contiguous in found):
        for c, (what, ts, col, contiguous) in enumerate(found):
            _stage(ts, what, c, params, addrs, staged)
    else:
        for c, (_, _, col, _) in enumerate(found):
            addrs[:, c] = col
    n = info.counts.copy()
    if factor != 1:
        n *= factor
    row_sizes = {r: int(n[r]) for r in staged}
    n[list(staged)] = 0
    return Table(storage, ("param", "grad", *slots), addrs, n, [ts for _, ts, _, _ in found], staged, row_sizes)


def _run_staged_row(kernel, table: Table, r: int, cols: list[int], written: list[int], scalars: np.ndarray,
                    device: torch.device) -> None:
    """Run row ``r`` alone, its tensors of another layout copied into the row's layout and back."""
    p = table.columns[0][r]
    addrs = table.addrs[r:r + 1].copy()
    copies = {}
    for c in cols:
        t = table.columns[c][r]
        copy = torch.empty_like(p, memory_format=torch.preserve_format if _dense(p) else torch.contiguous_format)
        copies[c] = copy.copy_(t)
        addrs[0, c] = copy.data_ptr()
    kernel(addrs, np.array([table.row_sizes[r]], np.int64), scalars, device)
    for c, copy in copies.items():
        if c in written:
            table.columns[c][r].copy_(copy)


# -- programs: traced once per structure, re-evaluated every step -------------------------------------------

_PROGRAMS: dict[tuple, list[Program]] = {}


def _symbolic_group(program: Program, job: Job) -> dict:
    """The group with each number (or tuple of numbers) a traced input of ``program``'s scalar tape (an optional
    number that is None stays None: whether it is None is part of the program's key)."""
    tape, group = program.tape, dict(job.group)
    for k in job.rule.numbers:
        v = group[k]
        if v is None:
            continue
        if isinstance(v, (tuple, list)):
            group[k] = tuple(tape.input(f"float(g[{k!r}][{i}])", float(x)) for i, x in enumerate(v))
        else:
            group[k] = tape.input(f"float(g[{k!r}])", float(v))
    return group


def trace(job: Job, bucket: Bucket, table: Table) -> Program:
    """Run the rule on symbols: tensors as :class:`~optimlab.engine.trace.Sym`, numbers as traced scalars."""
    program = Program(table.buffers, np.dtype(compute_dtype(table.storage)))
    tape, syms = program.tape, program.inputs
    chain = job.rule.recipe(_symbolic_group(program, job))
    step = tape.input("step", bucket.step) if counts_steps(chain) or group_steps(chain) else None
    scalars = {name: tape.input(f"sv[{name!r}]", value) for name, value in bucket.scalars.items()}
    dtypes = {name: str(bucket.states[0][name].dtype).replace("torch.", "") for name in bucket.scalars}

    def scale(name, factor):
        return program.scale_state(name, scalars[name], factor, dtypes[name])

    via = str(scalar_dtype()).replace("torch.", "")

    def assign(name, value):
        return program.set_state(name, value, dtypes[name], via)

    slots = {name: [syms[name]] for name in table.buffers[2:]}
    apply_chain(TraceOps(program), chain, [syms["param"]], [syms["grad"]], slots, step, bucket.fresh, scalars, scale,
                job.maximize, assign)
    return program


def program_for(job: Job, bucket: Bucket, table: Table) -> tuple[Program, tuple, tuple]:
    """The traced program for this job's structure, with its scalar arguments and scalar-state values for
    this step: traced the first time a structure is met, then only re-evaluated."""
    key = (job.rule, job.flags(), tuple(job.group[k] is None for k in job.rule.numbers), job.maximize, bucket.fresh,
           table.storage, table.buffers,
           tuple((name, bucket.states[0][name].dtype) for name in bucket.scalars), scalar_dtype())
    candidates = _PROGRAMS.setdefault(key, [])
    for program in candidates:
        result = program.evaluate(job.group, bucket.step, bucket.scalars)
        if result is not None:
            return (program, *result)
    program = trace(job, bucket, table)
    result = program.evaluate(job.group, bucket.step, bucket.scalars)
    if result is None:
        raise RuntimeError(f"a traced rule does not hold for the values it was traced with:\n{program.source()}")
    candidates.append(program)
    return (program, *result)


# -- the backends ----------------------------------------------------------------------------------------

class KernelBackend(Backend):
    """A kernel family: why it cannot run a device's tensors (None if it can), and the kernel for a traced
    program, called as ``kernel(addrs, sizes, scalars, device)``."""

    def __init__(self, name: str, unavailable_reason: Callable[[torch.device], str | None],
                 kernel_for: Callable[[Program, str], Callable], auto_devices: tuple[str, ...]) -> None:
        self.name, self.unavailable_reason, self.kernel_for, self.auto_devices = (
            name, unavailable_reason, kernel_for, auto_devices)

    def unfit(self, bucket: Bucket, job: Job) -> str | None:
        device = bucket.device
        if device.type not in self.auto_devices:
            return self.unavailable_reason(device) or f"it runs {device.type} tensors only when forced (impl={self.name!r})"
        if job.differentiable:
            return "a generated kernel is not differentiable (differentiable=True runs the reference)"
        try:
            bucket.prepared[self.name] = prepare(bucket, slot_names(job.chain), self)
        except Unfit as exc:
            return str(exc)
        return None

    def run(self, bucket: Bucket, job: Job) -> None:
        table = bucket.prepared.pop(self.name, None)
        if table is None:
            try:
                table = prepare(bucket, slot_names(job.chain), self)
            except Unfit as exc:
                raise RuntimeError(f"impl={self.name!r} cannot run this parameter group: {exc}; allowed: "
                                   "impl='auto' (falls back), 'foreach' or 'reference'") from None
        program, args, writes = program_for(job, bucket, table)
        for (name, _), value in zip(program.writes, writes):
            scalar_state.assign([st[name] for st in bucket.states], value)
        kernel = self.kernel_for(program, table.storage)
        scalars = np.array(args, dtype=program.dtype)
        written = [c for c, _ in program.stores()]
        device = bucket.device
        kernel(table.addrs, table.sizes, scalars, device)
        for r, cols in table.staged.items():
            _run_staged_row(kernel, table, r, cols, written, scalars, device)
        # The kernel wrote through raw pointers: tell autograd, as an in-place torch op would, so a graph
        # that saved a parameter before the step still fails loudly instead of using the new values.
        increment_version(list(itertools.chain.from_iterable(table.columns[c] for c in written)))
        bucket.prepared["ran"] = (table, program, kernel)


def _numba_reason(device: torch.device) -> str | None:
    if device.type != "cpu":
        return f"no numba kernel for device {device.type} (the numba kernels are CPU-only; CUDA tensors take impl='triton')"
    return numba_backend.unavailable_reason()


NUMBA = KernelBackend("fused", _numba_reason, numba_backend.kernel_for, ("cpu",))
TRITON = KernelBackend("triton", triton_launcher.unavailable_reason, triton_launcher.kernel_for, ("cuda",))
"""Triton also runs CPU tensors under its interpreter (``TRITON_INTERPRET=1``), but only when forced: that is
for tests, far too slow to be chosen."""
KERNEL_BACKENDS = (NUMBA, TRITON)


def backend_for(device: torch.device) -> KernelBackend:
    """The kernel family that serves ``device``'s tensors (``impl="fused"`` on that device)."""
    for backend in KERNEL_BACKENDS:
        if device.type in backend.auto_devices:
            return backend
    raise ValueError(f"Invalid device: {str(device)!r}; allowed: "
                     + ", ".join(d for b in KERNEL_BACKENDS for d in b.auto_devices) + " (the generated kernels)")


def compute_dtype(storage: str) -> str:
    return "float64" if storage == "float64" else "float32"
