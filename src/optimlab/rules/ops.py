"""The rule language: one table of elementwise operations over lists of tensors.

An update rule is written once, against these operations (``ops.lerp_(m, u, 1 - b1)``). The engine hands
the rule an *ops object* derived from this table, and with it decides how the rule runs:

* :data:`LoopOps` — tensor by tensor, torch's per-tensor functions (the reference);
* :data:`ForeachOps` — one ``torch._foreach_*`` call per operation (multi-tensor);
* :class:`AutogradOps` — each op's plain math under autograd, scalars may be tensors (``differentiable=True``);
* the tracer of :mod:`optimlab.engine.trace`, which records the calls into a program that the numba and
  Triton code generators compile from the :attr:`Op.numba` / :attr:`Op.triton` formulas.

Each :class:`Op` row states an operation once: its tensor operands, its scalar arguments, torch's function,
its formula for each code generator and its plain math. A missing piece fails here, at import. Names
ending in ``_`` modify their first list in place and return it; the others return new tensors and never
touch their inputs (that is how a rule keeps ``p.grad`` intact). A rule always goes on with the list an
operation returns (under autograd an in-place op on a temporary returns new tensors).

Formulas: ``{a}``, ``{b}``, ``{c}`` are the tensor operands, ``{s}`` and ``{t}`` the scalars; ``fma(x, y, z)`` is
``x * y + z`` rounded once, as torch's vectorized CPU kernels compute ``add(alpha=)``, ``addcmul`` and
``lerp``; ``{one}`` is 1 in the compute dtype; Triton's ``{div}`` and ``{sqrt}`` are the correctly rounded
forms. Every formula evaluates left to right as ATen's kernel does, so a traced kernel agrees with torch's
arithmetic operation by operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor

TensorList = Sequence[Tensor]


@dataclass(frozen=True)
class Op:
    """One elementwise operation.

    Attributes:
        name: the rule-language name (``ops.<name>`` new tensors, ``ops.<name>_`` in place).
        arity: number of tensor operands.
        scalar: how torch takes the scalar operand: a keyword (``"alpha"``, ``"value"``), ``""`` for
            positional, ``None`` when there is none; a tuple of these for several (``("min", "max")``).
        torch: torch's function (``torch.<torch>``, ``Tensor.<torch>_``, ``torch._foreach_<torch>[_]``).
        math: the meaning, on tensors or numbers (used with tensor-valued scalars under autograd).
        numba, triton: the formula each code generator writes.
        forms: ``"both"``, ``"inplace"`` only (``copy_``) or ``"new"`` only (``detach``).
        foreach: the multi-tensor form, a function of the lists (``detach``). Where there is none and torch has no
            ``torch._foreach_<torch>``, the multi-tensor form is the per-tensor one, tensor by tensor (as torch.optim's
            foreach paths do for ``clamp_`` and masked fills).
        loop: the per-tensor forms ``(new, in place)`` where no single torch function is the op (a masked fill: the
            mask is computed first); they take the tensors, then the scalars as ``scalar`` says.
    """

    name: str
    arity: int
    scalar: str | tuple[str, ...] | None
    torch: str
    math: Callable
    numba: str
    triton: str
    forms: str = "both"
    foreach: Callable | None = None
    loop: tuple[Callable, Callable] | None = None

    @property
    def scalars(self) -> tuple[str, ...]:
        """How torch takes each scalar operand, in order (``""``: positionally)."""
        if self.scalar is None:
            return ()
        return (self.scalar,) if isinstance(self.scalar, str) else tuple(self.scalar)

    @property
    def inplace_only(self) -> bool:
        return self.forms == "inplace"

    @property
    def has_inplace(self) -> bool:
        return self.forms != "new"

    def __post_init__(self) -> None:
        if len(self.scalars) > len(SCALAR_FIELDS):
            raise ValueError(f"op {self.name!r}: {len(self.scalars)} scalars; at most {len(SCALAR_FIELDS)}")
        scalars = set(SCALAR_FIELDS[:len(self.scalars)])
        operands = set("abc"[:self.arity]) | scalars
        for formula in (self.numba, self.triton):
            used = {k for k in "abc" + SCALAR_FIELDS if "{" + k + "}" in formula}
            if not used <= operands or used & set(SCALAR_FIELDS) != scalars:
                raise ValueError(f"op {self.name!r}: formula {formula!r} uses {sorted(used)}, expected {sorted(operands)}")


SCALAR_FIELDS = "st"
"""The formulas' names of the scalar operands, in order."""


def _maximum(a, b):
    return torch.maximum(a, b)


def _masked_fill(compare: str) -> tuple[Callable, Callable]:
    """``a`` with ``v`` where ``b <compare> x`` (new, in place) as torch.optim writes it — ``sign[sign.gt(0)] =
    etaplus``: a masked fill stores what the index assignment stores."""
    mask = getattr(Tensor, compare)

    def new(a, b, x, v):
        return a.masked_fill(mask(b, x), v)

    def inplace(a, b, x, v):
        return a.masked_fill_(mask(b, x), v)
    return new, inplace


TABLE: tuple[Op, ...] = (
    Op("neg", 1, None, "neg", lambda a: -a, "-{a}", "-{a}"),
    Op("abs", 1, None, "abs", lambda a: a.abs(), "np.abs({a})", "tl.abs({a})"),
    Op("sqrt", 1, None, "sqrt", lambda a: a.sqrt(), "np.sqrt({a})", "{sqrt}({a})"),
    Op("reciprocal", 1, None, "reciprocal", lambda a: 1 / a, "{one} / {a}", "{div}({one}, {a})"),
    # torch.sign is (a > 0) - (a < 0): 0 for a NaN (np.sign gives NaN)
    Op("sign", 1, None, "sign", lambda a: a.sign(), "({one} if {a} > 0 else (-{one} if {a} < 0 else {one} - {one}))",
       "tl.where({a} > 0, {one}, tl.where({a} < 0, -{one}, {one} - {one}))"),
    Op("add", 2, "alpha", "add", lambda a, b, s: a + s * b, "fma({s}, {b}, {a})", "tl.fma({s}, {b}, {a})"),
    Op("add_scalar", 1, "", "add", lambda a, s: a + s, "{a} + {s}", "{a} + {s}"),
    Op("scale", 1, "", "mul", lambda a, s: a * s, "{a} * {s}", "{a} * {s}"),
    Op("div_scalar", 1, "", "div", lambda a, s: a / s, "{a} / {s}", "{div}({a}, {s})"),
    Op("mul", 2, None, "mul", lambda a, b: a * b, "{a} * {b}", "{a} * {b}"),
    Op("div", 2, None, "div", lambda a, b: a / b, "{a} / {b}", "{div}({a}, {b})"),
    Op("addcmul", 3, "value", "addcmul", lambda a, b, c, s: a + s * b * c,
       "fma({s} * {b}, {c}, {a})", "tl.fma({s} * {b}, {c}, {a})"),
    Op("addcdiv", 3, "value", "addcdiv", lambda a, b, c, s: a + s * b / c,
       "{a} + {s} * {b} / {c}", "{a} + {div}({s} * {b}, {c})"),
    # torch's lerp: a + w (b - a) for |w| < 1/2, else b + (w - 1)(b - a), each one fused multiply-add
    Op("lerp", 2, "", "lerp", lambda a, b, s: a + s * (b - a),
       "(fma({s}, {b} - {a}, {a}) if abs({s}) < 0.5 else fma({s} - {one}, {b} - {a}, {b}))",
       "tl.where(tl.abs({s}) < 0.5, tl.fma({s}, {b} - {a}, {a}), tl.fma({s} - {one}, {b} - {a}, {b}))"),
    # NaN-propagating, as torch.maximum
    Op("maximum", 2, None, "maximum", _maximum, "({a} if ({a} > {b} or {a} != {a}) else {b})",
       "tl.where(({a} > {b}) | ({a} != {a}), {a}, {b})"),
    # torch.clamp: NaN where a or a bound is NaN, else max(a, s) then min(., t) (t where s > t); a tie keeps a, and
    # with it the sign of a zero
    Op("clamp", 1, ("min", "max"), "clamp", lambda a, s, t: a.clamp(s, t),
       "({s} if {s} != {s} else ({t} if {t} != {t} else ({t} if {a} > {t} else "
       "(({t} if {a} == {a} else {a}) if {s} > {t} else ({s} if {a} < {s} else {a})))))",
       "tl.where({s} != {s}, {s}, tl.where({t} != {t}, {t}, tl.where({a} > {t}, {t}, "
       "tl.where({s} > {t}, tl.where({a} == {a}, {t}, {a}), tl.where({a} < {s}, {s}, {a})))))"),
    # a, with t where b > s (b < s, b == s; never where b is NaN): torch.optim's masked fills
    Op("fill_gt", 2, ("", ""), "masked_fill", lambda a, b, s, t: torch.where(b > s, t, a),
       "({t} if {b} > {s} else {a})", "tl.where({b} > {s}, {t}, {a})", loop=_masked_fill("gt")),
    Op("fill_lt", 2, ("", ""), "masked_fill", lambda a, b, s, t: torch.where(b < s, t, a),
       "({t} if {b} < {s} else {a})", "tl.where({b} < {s}, {t}, {a})", loop=_masked_fill("lt")),
    Op("fill_eq", 2, ("", ""), "masked_fill", lambda a, b, s, t: torch.where(b == s, t, a),
       "({t} if {b} == {s} else {a})", "tl.where({b} == {s}, {t}, {a})", loop=_masked_fill("eq")),
    Op("copy", 2, None, "copy", lambda a, b: b, "{b}", "{b}", forms="inplace"),
    # the same values, cut from autograd's graph (state that starts from a gradient, as torch's SGD buffer)
    Op("detach", 1, None, "detach", lambda a: a.detach(), "{a}", "{a}", forms="new",
       foreach=lambda xs: [x.detach() for x in xs]),
)
OPS: dict[str, Op] = {op.name: op for op in TABLE}


# -- per-tensor (reference) ----------------------------------------------------------------------------

def _binder(op: Op) -> Callable:
    """``scalars -> (positional, keywords)``: the scalar operands as torch takes them."""
    kws = op.scalars

    def bind(scalars):
        return [s for k, s in zip(kws, scalars) if not k], {k: s for k, s in zip(kws, scalars) if k}
    return bind


def _loop_new(op: Op) -> Callable:
    fn = op.loop[0] if op.loop else getattr(torch, op.torch)
    n = len(op.scalars)
    if not n:
        return lambda *lists: [fn(*ts) for ts in zip(*lists)]
    bind = _binder(op)

    def run(*args):
        pos, kw = bind(args[-n:])
        return [fn(*ts, *pos, **kw) for ts in zip(*args[:-n])]
    return run


def _loop_inplace(op: Op) -> Callable:
    if op.name == "maximum":
        def maximum_(xs, ys):
            for x, y in zip(xs, ys):
                torch.maximum(x, y, out=x)
            return xs
        return maximum_
    method = op.loop[1] if op.loop else getattr(Tensor, op.torch + "_")
    n = len(op.scalars)
    if not n:
        def inplace(xs, *lists):
            for ts in zip(xs, *lists):
                method(*ts)
            return xs
        return inplace
    bind = _binder(op)

    def inplace_with_scalars(xs, *args):
        pos, kw = bind(args[-n:])
        for ts in zip(xs, *args[:-n]):
            method(*ts, *pos, **kw)
        return xs
    return inplace_with_scalars


# -- multi-tensor --------------------------------------------------------------------------------------

def _foreach(op: Op, inplace: bool) -> Callable:
    if op.foreach is not None:
        return op.foreach
    name = f"_foreach_{op.torch}{'_' if inplace else ''}"
    if op.loop or not hasattr(torch, name):  # no multi-tensor form: tensor by tensor, as torch.optim's foreach paths
        return _loop_inplace(op) if inplace else _loop_new(op)
    fn = getattr(torch, name)
    n = len(op.scalars)
    if any(op.scalars):  # keywords
        bind = _binder(op)

        def call(*args):
            pos, kw = bind(args[-n:])
            return fn(*args[:-n], *pos, **kw)
    else:
        call = fn
    if inplace:
        def run(xs, *rest):
            call(xs, *rest)
            return xs
        return run
    return lambda *args: list(call(*args))


def _ops_object(name: str, doc: str, new: Callable[[Op], Callable], inplace: Callable[[Op], Callable]):
    methods = {}
    for op in TABLE:
        if not op.inplace_only:
            methods[op.name] = staticmethod(new(op))
        if op.has_inplace:
            methods[op.name + "_"] = staticmethod(inplace(op))
    cls = type(name, (), {"__doc__": doc, "name": name, **methods})
    return cls


LoopOps = _ops_object("reference", "Per-tensor torch operations: the reference semantics.", _loop_new, _loop_inplace)
ForeachOps = _ops_object("foreach", "One ``torch._foreach_*`` call per operation over the whole list.",
                         lambda op: _foreach(op, False), lambda op: _foreach(op, True))


class AutogradOps:
    """Differentiable semantics (``differentiable=True``): every op is its plain :attr:`Op.math` on tensors, so
    scalars may be tensors and gradients flow through the step.

    It is made for one step over tensors it ``owns`` (parameters and state): an owned tensor read as an operand
    is read through a copy, so autograd never saves a tensor that a later in-place update changes; an in-place
    op on an owned tensor writes the result into it (the state persists); on any other tensor it hands back
    the result in a new list instead of mutating (temporaries stay functional). Rules therefore use the list
    an in-place op returns.
    """

    name = "autograd"

    def __init__(self, owned: Sequence[Tensor] = ()) -> None:
        self.owned = {id(t) for t in owned}

    def _read(self, x: Tensor) -> Tensor:
        return x.clone() if id(x) in self.owned else x

    def _store(self, xs: TensorList, results: list) -> list:
        out = []
        for x, r in zip(xs, results):
            if id(x) in self.owned:
                x.copy_(r)
                out.append(x)
            else:
                out.append(r)
        return out

    def copy_(self, xs: TensorList, ys: TensorList) -> list:
        return self._store(xs, [self._read(y) for y in ys])


def _autograd_new(op: Op) -> Callable:
    math, n = op.math, len(op.scalars)

    def run(self, *args):
        lists, extra = (args[:-n], args[-n:]) if n else (args, ())
        return [math(*map(self._read, ts), *extra) for ts in zip(*lists)]
    return run


def _autograd_inplace(op: Op) -> Callable:
    new = _autograd_new(op)

    def run(self, xs, *rest):
        return self._store(xs, new(self, xs, *rest))
    return run


for _op in TABLE:
    if not _op.inplace_only:
        setattr(AutogradOps, _op.name, _autograd_new(_op))
        if _op.has_inplace:
            setattr(AutogradOps, _op.name + "_", _autograd_inplace(_op))

