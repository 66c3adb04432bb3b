"""The step benchmark's bookkeeping (its figures come from `optimlab bench step`, never from tests)."""

from __future__ import annotations

import json

import pytest
import torch

from optimlab import registry
from optimlab.bench import step


def test_transformer_mix_is_about_25m_params():
    n = sum(torch.Size(s).numel() for s in step.SIZES["transformer-25M"]())
    assert 24e6 <= n <= 28e6


@pytest.mark.parametrize("name,expected", [("sgd", 12), ("momentum", 20), ("adam", 28), ("adadelta", 28)])
def test_bytes_per_param_counts_reads_and_writes(name, expected):
    p = torch.randn(8, requires_grad=True)
    p.grad = torch.randn(8)
    opt = registry.get(name).make([p])
    opt.step()
    assert step._bytes_per_param(opt, p) == expected


def test_quick_run_writes_every_contender(tmp_path):
    out = tmp_path / "bench.json"
    lines = []
    step.run_benchmark(["sgd"], quick=True, reps=1, warmup=0, sizes=["100x16K"], first_step=False, out=out,
                       log=lines.append)
    data = json.loads(out.read_text())
    contenders = {t["contender"] for t in data["timings"]}
    assert contenders == {"optimlab", "torch-foreach", "torch-fused"}
    assert all(t["ns_per_param"] > 0 and t["of_roofline"] > 0 for t in data["timings"])
    assert any("roofline" in line for line in lines)


@pytest.mark.parametrize("kwargs,match", [({"names": ["adamz"]}, "valid names"),
                                          ({"sizes": ["huge"]}, "Invalid sizes: 'huge'"),
                                          ({"reps": 0}, "Invalid reps=0"),
                                          ({"device": "tpu"}, "Invalid device: 'tpu'; allowed: cpu, cuda"),
                                          ({"device": "cuda"}, "Invalid device: 'cuda': this torch sees no CUDA GPU")])
def test_bad_arguments_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        step.run_benchmark(quick=True, first_step=False, log=lambda _: None, **kwargs)


def test_the_roofline_kernel_streams_every_buffer_with_either_backend(monkeypatch):
    """x <- x + 0*g for p and every state buffer, through numba and through the Triton generator (its
    interpreter, on CPU): elements whose gradient is inf become NaN (so g was read and x written), the
    others keep their values."""
    pytest.importorskip("triton", reason="Triton does not install on this platform")
    from optimlab.engine.backends.kernel import KERNEL_BACKENDS

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    for backend in KERNEL_BACKENDS:
        params = step._make_params([(3000,), (5, 7)])
        opt = registry.get("adam").make(params)
        opt.step()
        for p in params:
            p.grad.view(-1)[::3] = float("inf")
        buffers = [(p, t) for p in params for t in (p, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])]
        before = [t.detach().clone() for _, t in buffers]
        step._stream_kernel(opt, params, backend)()
        for (p, t), b in zip(buffers, before):
            hit = torch.isinf(p.grad)
            assert torch.isnan(t[hit]).all() and torch.equal(t[~hit], b[~hit]), backend.name


def test_small_model_table_times_torchs_default_and_every_impl(tmp_path):
    out = tmp_path / "bench.json"
    step.run_benchmark(["adam"], reps=1, sizes=[], first_step=False, out=out, log=lambda _: None)
    small = json.loads(out.read_text())["small_models_us_per_step"]
    assert set(small) == set(step.SMALL_SIZES)
    for label, rows in small.items():
        row = rows["adam"]
        assert {"torch-default", "auto", "ratio", "reference", "foreach", "fused"} <= set(row)
        assert row["ratio"] == pytest.approx(row["auto"] / row["torch-default"])
