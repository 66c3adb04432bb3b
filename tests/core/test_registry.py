"""The registry is the single declaration: it matches the classes, torch.optim, the docs and the API."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

import optimlab
from optimlab import functional, registry
from optimlab.docs_gen import markdown
from tests.helpers import loss_fn, make_params
from tests.optimizers.cases import SPEC_IDS, TORCH_SPECS, reference, variants

from optimlab.adapter import ENGINE_OPTIONS


def _torch_class(spec):
    fn = reference(spec)
    return getattr(fn, "func", fn)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TORCH_SPECS if not hasattr(reference(s), "func")])
def test_signature_matches_torch_names_order_kinds_and_defaults(spec):
    """Positional arguments in torch's order, keyword-only ones as torch's, torch's flags included: any call that
    works on the torch.optim class works on ours."""
    ours = [(n, p.kind, p.default) for n, p in inspect.signature(spec.cls.__init__).parameters.items()
            if n not in ENGINE_OPTIONS]
    theirs = [(n, p.kind, p.default) for n, p in inspect.signature(_torch_class(spec).__init__).parameters.items()]
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert [x for x in ours if x[1] == positional] == [x for x in theirs if x[1] == positional]
    assert sorted(x for x in ours if x[1] != positional) == sorted(x for x in theirs if x[1] != positional)


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_spec_is_complete(spec):
    assert registry.get(spec.title).cls is spec.cls  # class names work too
    lo, hi = spec.lr_range
    assert 0 < lo < hi
    grid = spec.lr_grid()
    assert grid[0] == pytest.approx(lo) and grid[-1] == pytest.approx(hi) and grid == sorted(grid)
    for parent in spec.parents:
        registry.get(parent)
    assert spec.cls.__doc__ and ".. math::" in spec.cls.__doc__
    for h in spec.hypers:
        assert h.check(h.name, h.default) is not None or h.default is None  # defaults are valid
    for variant in variants(spec):
        spec.make([torch.zeros(1, requires_grad=True)], **variant)


def test_log_grid_three_per_decade():
    grid = registry.log_grid(1e-4, 1.0, 3)
    assert len(grid) == 13
    assert grid[3] == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="learning-rate range"):
        registry.log_grid(0.0, 1.0)
    with pytest.raises(ValueError, match="learning-rate range"):
        registry.log_grid(1.0, 0.1)


def test_public_names_cover_the_registry():
    assert {s.title for s in registry.specs()} <= set(optimlab.__all__)
    assert registry.names()[:8] == ["sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "adamw"]


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_functional_api_equals_the_class(spec):
    for variant in variants(spec):
        init = make_params()
        a = [x.clone().requires_grad_() for x in init]
        opt = spec.make(a, lr=0.01, **variant)
        b = [x.clone() for x in init]
        states = [{} for _ in b]
        fn = getattr(functional, spec.name)
        sign = -1 if variant.get("maximize") else 1
        for _ in range(10):
            opt.zero_grad()
            (sign * loss_fn(a)).backward()
            opt.step()
            bb = [x.clone().requires_grad_() for x in b]
            grads = torch.autograd.grad(sign * loss_fn(bb), bb)
            fn(b, list(grads), states, lr=0.01, **variant)
        for x, y in zip(a, b):
            assert torch.equal(x.detach(), y)
        group_count = {"step"} if "step" in opt.param_groups[0] else set()  # a group's count lives in the states
        assert set(states[0]) == set(opt.state[a[0]]) | group_count


def test_functional_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        functional.adam([torch.zeros(1)], [], [{}])
    with pytest.raises(ValueError, match="lr"):
        functional.sgd([torch.zeros(1)], [torch.zeros(1)], [{}], lr=-1.0)


def test_docs_page_is_generated_from_the_registry():
    page = Path(__file__).resolve().parents[2] / "docs" / "optimizers.md"
    assert page.read_text(encoding="utf-8") == markdown(), "run `make docs` to regenerate docs/optimizers.md"
    text = markdown()
    for line in ("SGD → Momentum", "Momentum → NAG", "Adagrad → RMSprop", "RMSprop → Adadelta",
                 "Momentum + RMSprop → Adam", "Adam + NAG → NAdam"):
        assert line in text


def test_readme_family_table_is_generated_from_the_registry():
    from optimlab.docs_gen import with_readme_family

    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert text == with_readme_family(text), "run `make docs` to regenerate README's family table"
    for spec in registry.specs():
        assert f"| `{spec.title}` |" in text


def test_every_optimizer_has_an_entry_in_the_tests_reference_catalogue():
    from tests.catalogue import CATALOGUE

    assert set(CATALOGUE) == set(registry.names())
    for spec in registry.specs():  # the class's stated reference is the implementation the tests hold it to
        if CATALOGUE[spec.name].make is not None:
            assert spec.reference_factory() == CATALOGUE[spec.name].make or (
                getattr(spec.reference_factory(), "func", None) == getattr(CATALOGUE[spec.name].make, "func", 0)
                and spec.reference_factory().keywords == CATALOGUE[spec.name].make.keywords)
