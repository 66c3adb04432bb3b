"""The adapter: a thin ``torch.optim.Optimizer`` subclass that runs an optimizer's rule through the engine.

torch.optim's base class gives param groups, ``add_param_group``, ``state_dict`` / ``load_state_dict``,
step and state-dict hooks, ``zero_grad`` and compatibility with every ``torch.optim.lr_scheduler``. This
class adds what optimlab needs around it: the constructor and validation generated from the optimizer's
declaration (:mod:`.declare`), torch's keyword arguments with torch's meaning (``foreach``, ``fused``,
``differentiable``, ``capturable``), the non-finite gradient guard, torch's AMP protocol (``grad_scale`` /
``found_inf``), and the step that hands each group's tensors to the engine. Hyperparameters live in
``param_groups`` under torch's names, state under torch's keys, so checkpoints move both ways.
"""

from __future__ import annotations

import functools
import itertools
from functools import partial
from operator import attrgetter, is_
from typing import Any, ClassVar, Iterable, Mapping

import torch
from torch import Tensor

from optimlab import engine
from optimlab.adapter import declare
from optimlab.adapter.declare import Hyper
from optimlab.engine.state import scalar_dtype
from optimlab.rules import Chain
from optimlab.validation import Choice

NONFINITE_MODES = (None, "skip", "raise")
ENGINE_OPTIONS = ("impl", "nonfinite")
"""optimlab's own keyword options, which steer the engine rather than the math."""


def _stored_values(t: Tensor) -> Tensor:
    """The values a tensor stores (a sparse COO tensor's non-zeros; a dense tensor itself)."""
    return t._values() if t.layout is torch.sparse_coo else t if t.layout is torch.strided else t.values()


_GRAD, _LAYOUT, _IS_NONE = attrgetter("grad"), attrgetter("layout"), partial(is_, None)


class NonFiniteGradientError(FloatingPointError):
    """Raised by ``nonfinite="raise"`` before any parameter or state is modified."""


def _hooked(step: Any) -> Any:
    """``step`` with torch.optim's step hooks (global and per-optimizer, pre and post, a pre-hook may replace the
    arguments) and its profiler label ``Optimizer.step#<Class>.step`` — what torch's own wrapper gives, without
    its cost when no profiler is recording (torch then leaves the step as it is: it is marked ``hooked``)."""
    from torch.optim import optimizer as torch_optimizer

    profiling = torch._C._autograd._profiler_enabled

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        global_pre, global_post = torch_optimizer._global_optimizer_pre_hooks, torch_optimizer._global_optimizer_post_hooks
        if not (global_pre or global_post or self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or profiling()):
            return step(self, *args, **kwargs)
        with torch.autograd.profiler.record_function(f"Optimizer.step#{type(self).__name__}.step"):
            for pre_hook in itertools.chain(global_pre.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                           f"{result}.")
            out = step(self, *args, **kwargs)
            self._optimizer_step_code()
            for post_hook in itertools.chain(self._optimizer_step_post_hooks.values(), global_post.values()):
                post_hook(self, args, kwargs)
            return out

    wrapper.hooked = True
    return wrapper


def _make_init(cls: type) -> Any:
    sig = cls._signature

    def __init__(self, params, *args, **kwargs):
        bound = sig.bind(self, params, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        del values["self"], values["params"]
        Optimizer._setup(self, params, values)

    __init__.__signature__ = sig
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Build a {cls.__name__} over ``params`` (tensors or param-group dicts)."
    return __init__


class Optimizer(torch.optim.Optimizer):
    """Base of every optimlab optimizer. A subclass declares its hyperparameters (:class:`~.declare.Hyper`
    class attributes, in torch's argument order) and its ``recipe(group) -> Chain``; its registry facts
    are class attributes too (``family``, ``summary``, ``paper``, ``parents``, ``sparse``).

    optimlab's engine options, keyword-only on every optimizer:

    * ``impl``: ``"auto"`` (default), ``"reference"`` (tensor by tensor), ``"foreach"`` (multi-tensor),
      ``"fused"`` (one generated kernel per bucket: numba on CPU, Triton on CUDA) or ``"triton"``; all run
      the same update rule. torch's ``foreach=True/False`` and ``fused=True`` select the same paths.
    * ``nonfinite``: ``None`` (as torch: no check), ``"skip"`` (a group whose gradients hold a NaN or inf is
      left untouched for that step and ``skipped_steps`` counts it) or ``"raise"`` (raise
      :class:`NonFiniteGradientError` naming the parameter, before anything is modified).
    """

    impl: str = Hyper("auto", Choice(engine.IMPLS), "how the rule runs (see the class docstring)", kw_only=True)
    nonfinite: str | None = Hyper(None, Choice(NONFINITE_MODES), "guard against NaN/inf gradients", kw_only=True)

    # registry facts, set by each optimizer
    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    parents: ClassVar[tuple[str, ...]] = ()
    reference: ClassVar[str] = ""
    """The implementation this optimizer equals (e.g. ``torch.optim.Adam``), for the docs."""
    sparse: ClassVar[bool] = False
    """Takes sparse gradients (as torch.optim's SGD and Adagrad); they are densified, which gives torch's
    sparse updates exactly (a coordinate without a gradient gets a zero one)."""
    complex_params: ClassVar[bool | str] = True
    """True: complex parameters are optimized as pairs of reals (as torch.optim does); otherwise a string saying why
    they are refused."""
    relations: ClassVar[tuple] = ()
    """Checks across hyperparameters: ``fn(group)`` raising ``ValueError``."""

    _hypers: ClassVar[dict[str, Hyper]] = {}
    _fixed: ClassVar[dict[str, Any]] = {}
    _fixed_checks: ClassVar[dict[str, Hyper]] = {}
    _derived: ClassVar[dict[str, str]] = {}
    _selectors: ClassVar[tuple] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hypers, fixed, fixed_checks, derived = declare.collect(cls)
        cls._hypers, cls._fixed, cls._fixed_checks, cls._derived = hypers, fixed, fixed_checks, derived
        cls._selectors = tuple((n, dict(h.selects)) for n, h in hypers.items() if h.selects)
        cls._signature = declare.signature(hypers)
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls)
        numbers = tuple(n for n, h in hypers.items() if h.is_number)
        numbers += tuple(n for n, source in derived.items() if source in numbers)
        flags = tuple(n for n in (*hypers, *fixed, *derived) if n not in numbers)
        cls._rule = engine.Rule(cls.recipe, numbers, flags)
        if cls.__doc__ and "Defaults:" not in cls.__doc__:
            skip = (*declare.TORCH_FLAGS, *ENGINE_OPTIONS)
            cls.__doc__ = cls.__doc__.rstrip() + "\n\n    " + declare.defaults_line(hypers, skip) + "\n"

    # -- subclasses ---------------------------------------------------------------------------
    @staticmethod
    def recipe(group: Mapping[str, Any]) -> Chain:  # pragma: no cover - every subclass overrides
        """The chain of transforms for one param group's hyperparameters."""
        raise TypeError("optimlab.Optimizer subclasses must define recipe(group)")

    @classmethod
    def hyperparameters(cls) -> dict[str, Hyper]:
        """The declared hyperparameters, in signature order (fixed options excluded)."""
        return dict(cls._hypers)

    # -- construction and groups ----------------------------------------------------------------
    def _setup(self, params: Iterable[Any], values: dict[str, Any]) -> None:
        derived = {name: values[source] for name, source in self._derived.items()}
        defaults = self._validate({**values, **self._fixed, **derived})
        self.skipped_steps = 0
        self.last_impl: list[list[tuple[str, str]]] = []
        self._plans: dict[int, engine.Plan] = {}
        super().__init__(params, defaults)
        if defaults.get("fused"):
            if defaults.get("differentiable"):
                raise RuntimeError("`fused` does not support `differentiable`")
            if defaults.get("foreach"):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
            self._step_supports_amp_scaling = True

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        """Check every declared hyperparameter present in ``group`` and the relations; return the group
        with normalised values (e.g. betas as a tuple)."""
        out = dict(group)
        for name, h in self._hypers.items():
            if name in out:
                out[name] = h.validate(name, out[name])
        for name, h in self._fixed_checks.items():
            if name in out:
                out[name] = h.validate(name, out[name])
        for name, source in self._derived.items():
            if name in out:
                out[name] = self._hypers[source].validate(name, out[name])
        impl = out.get("impl", "auto")
        wanted = self._selected(out)
        if impl != "auto" and wanted is not None and wanted != impl and not (impl == "triton" and wanted == "fused"):
            flags = ", ".join(f"{n}={out.get(n)!r}" for n, _ in self._selectors)
            raise ValueError(f"Invalid impl: {impl!r} with torch's flags {flags}; allowed: one way to choose the path "
                             "(impl, or the flags)")
        for relation in self.relations:
            relation(out)
        return out

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        merged = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        checked = self._validate(merged)
        super().add_param_group({**param_group, **{k: checked[k] for k in param_group if k != "params"}})

    # -- copies and checkpoints -----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["skipped_steps"] = self.skipped_steps
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """torch's ``load_state_dict`` ends here (before its post-hooks), as do ``copy.deepcopy`` and pickle:
        groups get missing options from the defaults and are validated; plain-number steps (older
        checkpoints) become tensors; sparse state (torch's SGD with sparse gradients) becomes dense."""
        super().__setstate__(state)
        self.__dict__.setdefault("skipped_steps", 0)
        self.last_impl = []
        self._plans = {}
        declared = {*self._hypers, *self._fixed, *self._derived}
        for group in self.param_groups:
            for key, value in self.defaults.items():
                if key in declared:  # torch's own __setstate__ adds 'differentiable' to every optimizer's defaults
                    group.setdefault(key, value)
            group.update({k: v for k, v in self._validate(group).items() if k != "params"})
            for p in group["params"]:
                st = self.state.get(p)
                if not st:
                    continue
                if "step" in st and not isinstance(st["step"], Tensor):
                    on_device = group.get("fused") or group.get("capturable")
                    st["step"] = torch.tensor(float(st["step"]), dtype=torch.float32 if on_device else scalar_dtype(),
                                              device=p.device if on_device else None)
                for key, value in st.items():
                    if isinstance(value, Tensor) and value.layout is not torch.strided:
                        st[key] = value.to_dense()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a checkpoint from optimlab or from the matching ``torch.optim`` class."""
        before = self.skipped_steps
        self.skipped_steps = int(state_dict.get("optimlab", {}).get("skipped_steps", 0))
        try:
            super().load_state_dict(state_dict)
        except Exception:
            self.skipped_steps = before
            raise

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["optimlab"] = {"skipped_steps": self.skipped_steps}
        return sd

    # -- the step -----------------------------------------------------------------------------
    def _param_name(self, group_index: int, index: int) -> str:
        group = self.param_groups[group_index]
        names = group.get("param_names")
        p = group["params"][index]
        label = names[index] if names else f"param_groups[{group_index}]['params'][{index}]"
        return f"{label} (shape {tuple(p.shape)}, {p.dtype})"

    def _guard(self) -> set[int]:
        """Indices of groups to skip this step; raises for ``nonfinite="raise"``."""
        skip = set()
        for gi, group in enumerate(self.param_groups):
            mode = group.get("nonfinite")
            if mode is None:
                continue
            idx = [i for i, p in enumerate(group["params"]) if p.grad is not None]
            grads = [group["params"][i].grad for i in idx]
            if not grads:
                continue
            finite = [bool(torch.isfinite(_stored_values(g)).all()) for g in grads]
            if all(finite):
                continue
            if mode == "raise":
                bad = idx[finite.index(False)]
                raise NonFiniteGradientError(
                    f"non-finite gradient (NaN or inf) for {self._param_name(gi, bad)}; "
                    "nothing was modified (nonfinite='raise')")
            skip.add(gi)
        return skip

    @classmethod
    def dense_grad(cls, grad: Tensor, where: str) -> Tensor:
        """``grad`` itself, or a dense copy of a sparse one where the optimizer takes sparse gradients (a
        coordinate without a gradient gets a zero one: torch's sparse update exactly); otherwise an error
        naming ``where``."""
        if grad.layout is torch.strided:
            return grad
        if not cls.sparse:
            takes = ", ".join(c.__name__ for c in _family() if c.sparse)
            raise RuntimeError(f"{cls.__name__} does not support sparse gradients, got one ({grad.layout}) "
                               f"for {where}; allowed: dense gradients (or an optimizer that takes sparse ones: "
                               f"{takes}, torch.optim.SparseAdam)")
        return grad.to_dense()

    def _collect(self, gi: int, group: dict[str, Any]) -> tuple[list[Tensor], list[Tensor], list[dict]]:
        """The group's params that have a gradient, their (dense) gradients and their state dicts.

        C-level passes (``map``) rather than a Python loop: with many tensors this is on the hot path."""
        params = group["params"]
        grads = list(map(_GRAD, params))
        index = range(len(params))
        if any(map(_IS_NONE, grads)):
            index = [i for i, g in enumerate(grads) if g is not None]
            params, grads = [params[i] for i in index], [grads[i] for i in index]
        if set(map(_LAYOUT, grads)) - {torch.strided}:
            grads = [g if g.layout is torch.strided else self.dense_grad(g, self._param_name(gi, i))
                     for i, g in zip(index, grads)]
        return list(params), grads, list(map(self.state.__getitem__, params))

    @classmethod
    def _selected(cls, group: Mapping[str, Any]) -> str | None:
        """The implementation the group's path switches select, or None; a switch for the generated kernel wins
        over ``foreach`` (as torch's ``fused`` does)."""
        chosen = [choices[value] for name, choices in cls._selectors
                  if not isinstance(value := group.get(name), Tensor) and value in choices]
        return "fused" if "fused" in chosen else (chosen[0] if chosen else None)

    @classmethod
    def impl_of(cls, group: Mapping[str, Any]) -> str:
        """The implementation a group asks for: ``impl``, or under ``"auto"`` what its path switches select
        (torch's ``fused=True``, ``foreach=True/False``)."""
        impl = group.get("impl", "auto")
        return impl if impl != "auto" else (cls._selected(group) or "auto")

    @classmethod
    def job(cls, group: Mapping[str, Any]) -> engine.Job:
        """The engine's job for one step of ``group``."""
        return engine.Job(cls._rule, group, bool(group.get("maximize", False)), bool(group.get("differentiable", False)))

    def _amp(self, groups: list[list[Tensor]]) -> bool:
        """torch's AMP protocol for optimizers that take the scaling themselves (``fused=True``, as torch's fused
        kernels): GradScaler sets ``grad_scale`` and ``found_inf``. With ``found_inf`` set nothing happens at all;
        otherwise the gradients are unscaled in place (as torch's fused kernels leave them) and the step runs.
        Returns whether to skip the step."""
        grad_scale, found_inf = getattr(self, "grad_scale", None), getattr(self, "found_inf", None)
        if found_inf is not None and bool(found_inf.item()):
            return True
        if grad_scale is not None:
            for grads in groups:
                if grads:
                    torch._foreach_div_(grads, grad_scale.reshape(()).to(grads[0].device))
        return False

    def _refuse(self) -> None:
        """What no group may ask for, checked in every group before any group steps."""
        for gi, group in enumerate(self.param_groups):
            if group.get("capturable"):
                raise RuntimeError(f"capturable=True: optimlab's {type(self).__name__} does not capture CUDA graphs "
                                   "(its step counters stay on the CPU); allowed: capturable=False")
            if self.complex_params is not True and any(map(torch.is_complex, group["params"])):
                i = next(i for i, p in enumerate(group["params"]) if torch.is_complex(p))
                raise ValueError(f"{type(self).__name__} does not take complex parameters, got one: "
                                 f"{self._param_name(gi, i)}; {self.complex_params}")

    @_hooked
    def step(self, closure=None):  # type: ignore[override]
        """Perform one optimization step. ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if getattr(self, "grad_scale", None) is not None or getattr(self, "found_inf", None) is not None:
            grads = [[p.grad for p in g["params"] if p.grad is not None] for g in self.param_groups]
            if self._amp(grads):
                self.last_impl = []
                return loss
        skip = self._guard()
        if skip:
            self.skipped_steps += 1
        self._refuse()
        used = []
        for gi, group in enumerate(self.param_groups):
            if gi in skip:
                continue
            impl = self.impl_of(group)
            planned = engine.step_planned(self._plans, gi, group, self.state, impl)
            if planned is not None:
                used.append(planned)
                continue
            params, grads, states = self._collect(gi, group)
            if params:
                used.append(engine.step_group(self.job(group), params, grads, states, impl, self._plans, gi))
                if not states[0]:  # a rule without state (plain SGD): keep none, as torch
                    for p in params:
                        del self.state[p]
        self.last_impl = used
        return loss


def _family() -> list[type]:
    """Every optimizer class defined so far (subclasses of :class:`Optimizer` with a registry name), each
    followed by its presets."""
    out = []

    def visit(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__dict__.get("name"):
                out.append(sub)
            visit(sub)

    visit(Optimizer)
    return out
