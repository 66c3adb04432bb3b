"""Shared pieces of the engine tests: parameter sets, a loss, and side-by-side runs of two impls."""

from __future__ import annotations

import torch

from tests.helpers import loss_fn


def param_set(dtype=torch.float32, seed=0, spec=None) -> list[tuple[str, torch.Tensor]]:
    """(layout, values): dense, transposed (non-contiguous, dense), strided slice (non-dense), complex (unless
    ``spec``'s optimizer refuses complex parameters), and a zero-size tensor last."""
    g = torch.Generator().manual_seed(seed)
    complex_dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    out = [
        ("dense", torch.randn(5, 3, generator=g, dtype=dtype)),
        ("transposed", torch.randn(4, 6, generator=g, dtype=dtype)),
        ("sliced", torch.randn(4, 4, generator=g, dtype=dtype)),
        ("dense", torch.randn(7, generator=g, dtype=complex_dtype)),
        ("dense", torch.randn(0, 3, generator=g, dtype=dtype)),
    ]
    if spec is not None and not spec.capabilities.complex:
        out = [x for x in out if not x[1].is_complex()]
    return out


def leaves(init, device: str | torch.device = "cpu") -> list[torch.Tensor]:
    """Fresh leaf tensors on ``device`` holding ``init``'s values in the named layouts."""
    out = []
    for layout, x in init:
        x = x.to(device)
        if layout == "transposed":
            y = x.t().contiguous().t()  # same values, column-major strides
        elif layout == "sliced":
            base = torch.zeros(x.shape[0], 2 * x.shape[1], dtype=x.dtype, device=device)
            base[:, ::2] = x
            y = base[:, ::2]
        else:
            y = x.clone()
        out.append(y.requires_grad_())
    return out


def run(spec, impl: str, init, steps: int, lr_scale: float = 1.0, device: str | torch.device = "cpu",
        **hypers) -> tuple[list[torch.Tensor], object]:
    ps = leaves(init, device)
    lr = spec.defaults["lr"] * lr_scale
    opt = spec.make(ps, lr=lr, impl=impl, **hypers)
    sign = -1.0 if hypers.get("maximize") else 1.0
    for _ in range(steps):
        opt.zero_grad()
        (sign * loss_fn(ps)).backward()
        opt.step()
    return ps, opt


def scaled_err(a, b) -> float:
    """max over tensors of max|a - b| / max|b|: relative to each tensor's magnitude."""
    err = 0.0
    for x, y in zip(a, b):
        x, y = x.detach(), y.detach()
        if y.numel() == 0:
            continue
        x, y = (torch.view_as_real(x), torch.view_as_real(y)) if y.is_complex() else (x, y)
        scale = y.abs().max().clamp_min(1e-30)
        err = max(err, ((x.double() - y.double()).abs().max() / scale.double()).item())
    return err


def prepared(opt, ps, backend_name: str = "fused"):
    """The bucket, job and address table the kernel backend would run for ``opt``'s first group now."""
    from optimlab.engine.backends import BY_NAME
    from optimlab.engine.backends.kernel import prepare
    from optimlab.engine.state import group_steps, make_buckets, slot_names

    job = opt.job(opt.param_groups[0])
    group_step = float(opt.param_groups[0]["step"]) if group_steps(job.chain) else None
    (bucket,) = make_buckets(job.chain, ps, [p.grad for p in ps], [opt.state[p] for p in ps], advance=False,
                             group_step=group_step)
    backend = BY_NAME[backend_name]
    return bucket, job, prepare(bucket, slot_names(job.chain), backend)


def traced(opt, ps, backend_name: str = "fused"):
    """``(program, storage)``: the traced program ``opt``'s next step would run on ``ps`` (state must exist)."""
    from optimlab.engine.backends.kernel import program_for

    bucket, job, table = prepared(opt, ps, backend_name)
    program, _, _ = program_for(job, bucket, table)
    return program, table.storage
