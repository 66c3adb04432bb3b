"""Step-only benchmark: every optimlab optimizer against torch.optim and the memory-bandwidth roofline.

An optimizer step is a memory-bound sweep; an optimizer reading p, g and S state buffers and writing p
and the S buffers moves ``B = (3 + 2S) * itemsize`` bytes per parameter (Adam, fp32: 28). For each
parameter set (one big tensor; many small ones; a transformer-like mix) this measures, in one process
and interleaved round by round so that a noisy machine slows every contender alike:

* optimlab with ``impl="auto"`` (the fused kernel where it fits) and torch.optim's ``foreach`` and
  ``fused`` paths where torch has them;
* the roofline: a generated streaming kernel that reads and writes the same buffers as the optimizer
  with no arithmetic (:func:`_stream_kernel`), timed in the same rounds as the steps; its GB/s turns
  ``B`` into the time a step cannot beat. (A ``copy_`` would understate it: writing a buffer that was
  not read costs a write-allocate read too.)

* issue 5's yardstick: torch's fused Adam on the same parameters, also timed in every round. An
  optimizer moving ``B`` bytes per parameter meets the target when its time is at most
  ``(B / 28) * t(torch fused Adam) / 0.9``, i.e. when ``of_adam_target = (B / 28) * t_ref / t >= 0.9``.

Reported per contender: median ns/param over >= ``reps`` steps, GB/s (``B`` / time), the fraction of
the roofline reached, the Adam-scaled target ratio and the speed-up over torch's best path. Also: peak
extra memory during a step (Linux: the RSS high-water mark, reset just before the step), the step time on
small models (one 2-element tensor, a small MLP, 20 tensors of 1K: per-step bookkeeping dominates there)
against torch.optim's default and, in subprocesses, the first-step cost of kernel generation with a cold and
with a warm kernel cache.

``device="cuda"`` runs the same tables on a GPU: optimlab's ``auto`` takes the Triton kernels there, the
roofline is the same streaming program written out by the Triton generator, each step is timed with CUDA
events, and peak extra memory is the allocator's high-water mark above what was allocated before.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from optimlab import registry

SIZES = {
    "one-16M": lambda: [(16 * 2**20,)],
    "1000x16K": lambda: [(16 * 2**10,)] * 1000,
    "transformer-25M": lambda: transformer_shapes(d=512, layers=7, vocab=8192, context=1024),
}
QUICK_SIZES = {
    "one-1M": lambda: [(2**20,)],
    "100x16K": lambda: [(16 * 2**10,)] * 100,
    "transformer-2M": lambda: transformer_shapes(d=128, layers=4, vocab=4096, context=256),
}


def transformer_shapes(d: int, layers: int, vocab: int, context: int) -> list[tuple[int, ...]]:
    """Parameter shapes of a GPT-like model: embeddings, per layer attention + MLP + norms, final norm."""
    shapes: list[tuple[int, ...]] = [(vocab, d), (context, d)]
    for _ in range(layers):
        shapes += [(d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,), (d,), (d,), (4 * d, d), (4 * d,), (d, 4 * d), (d,)]
    return shapes + [(d,), (d,)]


SMALL_ROUNDS = 40
"""Timed blocks per contender in the small-model table (at least ``reps``)."""
ADAM_REF = "adam-ref"
"""torch's fused Adam, timed in every round: the yardstick of issue 5's targets."""
ADAM_BYTES = 28
"""Bytes torch's Adam moves per fp32 parameter: reads p, g, m, v; writes p, m, v."""


@dataclass
class Timing:
    optimizer: str
    sizes: str
    contender: str
    params: int
    tensors: int
    bytes_per_param: int
    ns_per_param: float
    gb_per_s: float
    of_roofline: float
    of_adam_target: float
    vs_torch_best: float | None = None
    peak_extra_bytes: int | None = None
    impl: str | None = None


@dataclass
class Report:
    command: str
    threads: int
    reps: int
    torch_version: str
    device: str = "CPU"
    roofline_gb_per_s: dict[str, dict[str, float]] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    first_step: dict[str, dict[str, float]] = field(default_factory=dict)
    small_models_us_per_step: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


# -- measuring ------------------------------------------------------------------------------------

def _rss_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_extra_bytes(fn: Callable[[], object], device: torch.device = torch.device("cpu")) -> int | None:
    """Peak memory ``fn`` adds above what was in use before it: resident memory on CPU (Linux; else
    None), the CUDA caching allocator's allocated bytes on a GPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return max(0, torch.cuda.max_memory_allocated(device) - before)
    before = _rss_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark VmHWM to the current RSS
    except OSError:
        return None
    fn()
    peak = _rss_kb("VmHWM")
    if before is None or peak is None:
        return None
    return max(0, peak - before) * 1024


def _make_params(shapes, seed: int = 0, device: torch.device = torch.device("cpu")) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    params = []
    for s in shapes:
        p = torch.randn(*s, generator=g).to(device).requires_grad_()
        p.grad = (torch.randn(*s, generator=g) * 1e-2).to(device)
        params.append(p)
    return params


def _contenders(spec, params, torch_flags=("foreach", "fused")) -> dict[str, torch.optim.Optimizer]:
    """optimlab (auto) and the torch paths that exist for this optimizer (each with its own state);
    the flag ``"default"`` is torch's own choice (the for-loop on CPU)."""
    out = {"optimlab": spec.make(params)}
    reference = spec.reference_factory()
    if reference is not None and spec.reference.startswith("torch.optim."):
        for flag in torch_flags:
            try:
                opt = reference(params, **({} if flag == "default" else {flag: True}))
                opt.step()  # torch rejects unsupported fused configurations at the first step
            except (RuntimeError, TypeError, ValueError):
                continue
            out[f"torch-{flag}"] = opt
    return out


def _bytes_per_param(opt: torch.optim.Optimizer, p: torch.Tensor) -> int:
    buffers = sum(1 for v in opt.state[p].values() if torch.is_tensor(v) and v.numel() == p.numel() and v.dim())
    return (3 + 2 * buffers) * p.element_size()


def _time_round_robin(fns: dict[str, Callable[[], object]], reps: int, warmup: int,
                      device: torch.device = torch.device("cpu")) -> dict[str, float]:
    """Median seconds per call of each function, all interleaved round by round (wall clock on CPU; CUDA
    events around each call on a GPU, synchronised once per round)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    cuda = device.type == "cuda"
    for _ in range(reps):
        events = {}
        for name, fn in fns.items():
            if cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                events[name] = (start, end)
            else:
                t0 = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - t0)
        if cuda:
            torch.cuda.synchronize(device)
            for name, (start, end) in events.items():
                samples[name].append(start.elapsed_time(end) / 1e3)
    return {k: statistics.median(v) for k, v in samples.items()}


def _stream_kernel(opt: torch.optim.Optimizer, params: list[torch.Tensor], backend) -> Callable[[], None]:
    """The roofline for ``opt``'s memory traffic: a generated kernel that reads the parameter, the
    gradient and every state buffer and writes back the parameter and the state (``x <- x + 0 * g``),
    with no other arithmetic. It moves exactly the optimizer's bytes, in the same pattern (all written
    buffers are also read, so no write-allocate traffic), through the same code generator as the
    optimizer's own kernel (``backend``: numba on CPU, Triton on a GPU).
    """
    import numpy as np

    from optimlab.engine.backends.kernel import prepare
    from optimlab.engine.state import Bucket
    from optimlab.engine.trace import Program

    p0 = params[0]
    states = [opt.state[p] for p in params]
    slots = [k for k, v in states[0].items() if torch.is_tensor(v) and v.dim() and v.numel() == p0.numel()]
    bucket = Bucket(params, [p.grad for p in params], states, 1.0, (), {}, ())
    table = prepare(bucket, slots, backend)
    program = Program(table.buffers, np.dtype("float32"))
    grad = program.inputs["grad"]
    for name in ("param", *slots):
        sym = program.inputs[name]
        sym.ref = program.emit("add", (sym, grad), (0.0,))
    kernel = backend.kernel_for(program, table.storage)
    scalars = np.array(program.scalars, np.float32)
    return lambda: kernel(table.addrs, table.sizes, scalars, p0.device)


def bench_sizes(label: str, shapes, names: list[str], reps: int, warmup: int, report: Report,
                log: Callable[[str], None], device: torch.device = torch.device("cpu")) -> None:
    backend = _backend(device)
    params = _make_params(shapes, device=device)
    n = sum(p.numel() for p in params)
    log(f"\n{label}: {n / 1e6:.1f}M params in {len(params)} tensors")
    log(f"{'optimizer':10} {'contender':14} {'ns/param':>9} {'GB/s':>7} {'roofline':>9} {'adam tgt':>9} "
        f"{'vs torch':>9} {'peak extra':>11}  impl")
    for name in names:
        spec = registry.get(name)
        opts = _contenders(spec, params)
        opts["optimlab"].step()  # create the state the roofline kernel streams through
        bpp_ours = _bytes_per_param(opts["optimlab"], params[0])
        roofline = _stream_kernel(opts["optimlab"], params, backend)
        adam_ref = torch.optim.Adam(params, fused=True)
        times = _time_round_robin({"roofline": roofline, ADAM_REF: adam_ref.step,
                                   **{k: o.step for k, o in opts.items()}}, reps, warmup, device)
        del adam_ref
        gbs = bpp_ours * n / times.pop("roofline") / 1e9  # measured in the same rounds as the steps
        t_ref = times.pop(ADAM_REF)
        report.roofline_gb_per_s.setdefault(label, {})[name] = gbs
        torch_best = min((t for k, t in times.items() if k.startswith("torch")), default=None)
        for contender, t in times.items():
            opt = opts[contender]
            bpp = _bytes_per_param(opt, params[0])
            timing = Timing(
                optimizer=name, sizes=label, contender=contender, params=n, tensors=len(params),
                bytes_per_param=bpp, ns_per_param=t / n * 1e9, gb_per_s=bpp * n / t / 1e9,
                of_roofline=(bpp * n / (gbs * 1e9)) / t,
                of_adam_target=(bpp / ADAM_BYTES) * t_ref / t,
                vs_torch_best=(torch_best / t) if torch_best else None,
                peak_extra_bytes=peak_extra_bytes(opt.step, device),
                impl=(opt.last_impl[0][0][0] if getattr(opt, "last_impl", None) else None),
            )
            report.timings.append(timing)
            vs = f"{timing.vs_torch_best:8.2f}x" if timing.vs_torch_best else f"{'-':>9}"
            peak = f"{timing.peak_extra_bytes / 2**20:9.1f}MB" if timing.peak_extra_bytes is not None else f"{'n/a':>11}"
            log(f"{name:10} {contender:14} {timing.ns_per_param:9.3f} {timing.gb_per_s:7.1f} "
                f"{timing.of_roofline:9.2f} {timing.of_adam_target:9.2f} {vs} {peak}  {timing.impl or ''}")
        log(f"{name:10} {'roofline':14} {bpp_ours * n / (gbs * 1e9) / n * 1e9:9.3f} {gbs:7.1f}")
        log(f"{name:10} {ADAM_REF:14} {t_ref / n * 1e9:9.3f} {ADAM_BYTES * n / t_ref / 1e9:7.1f}")
        del opts


# -- small models: where a step is mostly fixed cost ---------------------------------------------------

SMALL_SIZES = {
    "one-2": lambda: [(2,)],
    "mlp-64": lambda: [(64, 64), (64,), (64, 64), (64,), (10, 64), (10,)],
    "20x1K": lambda: [(1024,)] * 20,
}
"""One 2-element tensor (the visual lab's races), a 64-64-10 MLP (6 tensors) and 20 tensors of 1K: a step is
microseconds, so what it costs is per-step bookkeeping rather than memory traffic."""
SMALL_IMPLS = ("reference", "foreach", "kernel")
"""optimlab impls shown beside ``auto``; ``kernel`` stands for the device's generated kernel (fused, triton)."""
SMALL_BLOCK = 25
"""Steps per timed sample: a sample is the mean of a block (one step is too short to time alone)."""


def _time_blocks(fns: dict[str, Callable[[], object]], rounds: int, block: int) -> dict[str, float]:
    """Median over ``rounds`` of the mean seconds per call over ``block`` calls, all contenders interleaved
    round by round, after one warm-up block each."""
    for fn in fns.values():
        for _ in range(block):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(block):
                fn()
            samples[name].append((time.perf_counter() - t0) / block)
    return {k: statistics.median(v) for k, v in samples.items()}


def small_models(names: list[str], rounds: int, log: Callable[[str], None],
                 device: torch.device = torch.device("cpu")) -> dict[str, dict[str, dict[str, float]]]:
    """µs per step on the :data:`SMALL_SIZES` models for torch.optim's default (the for-loop on CPU) and
    optimlab's default (``impl="auto"``), their ratio (target: at most 1.0), and optimlab's other impls."""
    impls = [_backend(device).name if i == "kernel" else i for i in SMALL_IMPLS]
    out: dict[str, dict[str, dict[str, float]]] = {}
    columns = ["torch-default", "auto", "ratio", *impls]
    for label, shapes in SMALL_SIZES.items():
        log(f"\nsmall model {label}: µs per step (median of {rounds} blocks of {SMALL_BLOCK}); ratio = optimlab auto "
            "/ torch.optim default, target <= 1.0")
        log(f"{'optimizer':10} " + " ".join(f"{c:>13}" for c in columns))
        for name in names:
            spec = registry.get(name)
            params = _make_params(shapes(), device=device)
            opts = {"torch-default": spec.reference_factory()(params)} if _has_torch(spec) else {}
            opts.update({"auto": spec.make(params), **{impl: spec.make(params, impl=impl) for impl in impls}})
            times = {k: t * 1e6 for k, t in _time_blocks({k: o.step for k, o in opts.items()}, rounds,
                                                          SMALL_BLOCK).items()}
            if "torch-default" in times:
                times["ratio"] = times["auto"] / times["torch-default"]
            out.setdefault(label, {})[name] = times
            log(f"{name:10} " + " ".join((f"{times[c]:13.2f}" if c == "ratio" else f"{times[c]:13.1f}")
                                         if c in times else f"{'-':>13}" for c in columns))
    return out


def _has_torch(spec) -> bool:
    return spec.reference.startswith("torch.optim.") and spec.reference_factory() is not None


# -- first-step cost ------------------------------------------------------------------------------

_FIRST_STEP = r"""
import json, sys, time
t0 = time.perf_counter()
import torch
torch.set_num_threads(1)
from optimlab import registry
from optimlab.engine.backends import numba
numba.available()
t_import = time.perf_counter() - t0
out = {"import_s": t_import}
device = torch.device(sys.argv[2])
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
for name in sys.argv[1].split(","):
    spec = registry.get(name)
    p = torch.randn(1000, device=device, requires_grad=True)
    p.grad = torch.randn(1000, device=device)
    opt = spec.make([p])
    sync()
    t0 = time.perf_counter()
    opt.step(); opt.step(); sync()  # the first step (fresh state) and the second (steady state) may differ
    t_two = time.perf_counter() - t0
    t0 = time.perf_counter()
    opt.step(); opt.step(); sync()
    out[name] = t_two - (time.perf_counter() - t0)
print(json.dumps(out))
"""


def first_step_cost(names: list[str], log: Callable[[str], None],
                    device: torch.device = torch.device("cpu")) -> dict[str, dict[str, float]]:
    """Seconds the first two steps cost above two steady ones, per optimizer: cold cache, then warm."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="optimlab-bench-cache-") as cache:
        env = {**os.environ, "OPTIMLAB_CACHE_DIR": cache, "OMP_NUM_THREADS": "1",
               "TRITON_CACHE_DIR": os.path.join(cache, "triton-binaries")}
        for state in ("cold", "warm"):
            proc = subprocess.run([sys.executable, "-c", _FIRST_STEP, ",".join(names), str(device)], env=env,
                                  capture_output=True, text=True, check=True)
            out[state] = json.loads(proc.stdout.strip().splitlines()[-1])
    log("\nfirst-step cost (kernel generation + compile or cache load), seconds:")
    log(f"{'optimizer':10} {'cold cache':>11} {'warm cache':>11}")
    log(f"{'(import)':10} {out['cold']['import_s']:11.2f} {out['warm']['import_s']:11.2f}")
    for name in names:
        log(f"{name:10} {out['cold'][name]:11.2f} {out['warm'][name]:11.2f}")
    return out


# -- entry point ----------------------------------------------------------------------------------

def _backend(device: torch.device):
    """The generated-kernel family that runs (and streams the roofline) on ``device``."""
    from optimlab.engine.backends.kernel import backend_for

    return backend_for(device)


def _check_device(device: str) -> torch.device:
    """``device`` as a torch.device on which the benchmark can run: its kernel family must be available."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(f"Invalid device: {device!r}; allowed: cpu, cuda or cuda:N")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"Invalid device: {device!r}: this torch sees no CUDA GPU "
                             f"(torch {torch.__version__}); allowed here: cpu")
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
    why = _backend(dev).unavailable_reason(dev)
    if why:
        raise ValueError(f"optimlab bench step on {device} needs the generated kernels for its roofline: {why}")
    return dev


def run_benchmark(names: list[str] | None = None, quick: bool = False, reps: int = 20, warmup: int = 3,
                  sizes: list[str] | None = None, first_step: bool = True, out: str | os.PathLike | None = None,
                  log: Callable[[str], None] = print, command: str = "", device: str = "cpu") -> Report:
    """Run the benchmark; print the tables through ``log`` and write JSON to ``out`` if given."""
    dev = _check_device(device)
    table = QUICK_SIZES if quick else SIZES
    names = names or registry.names()
    for name in names:
        registry.get(name)  # raises UnknownOptimizerError listing the valid names
    chosen = list(table) if sizes is None else sizes
    for label in chosen:
        if label not in table:
            raise ValueError(f"Invalid sizes: {label!r}; allowed: {', '.join(table)}")
    if reps < 1 or warmup < 0:
        raise ValueError(f"Invalid reps={reps!r}, warmup={warmup!r}; allowed: reps >= 1, warmup >= 0")
    torch.set_num_threads(1)
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    report = Report(command=command, threads=torch.get_num_threads(), reps=reps, torch_version=torch.__version__,
                    device=where)
    log(f"optimlab step benchmark on {where}: {torch.get_num_threads()} CPU thread, median of {reps} after "
        f"{warmup} warm-up")
    for label in chosen:
        bench_sizes(label, table[label](), names, reps, warmup, report, log, dev)
    report.small_models_us_per_step = small_models(names, max(reps, SMALL_ROUNDS), log, dev)
    if first_step:
        report.first_step = first_step_cost(names, log, dev)
    if out is not None:
        from optimlab.atomic import write_text

        write_text(Path(out), json.dumps({**asdict(report)}, indent=1))
        log(f"\nwrote {out}")
    return report
