"""Tracing a rule: the same rule source, run on symbols, recorded as a program a code generator compiles.

Two kinds of symbol stand in for the real values:

* :class:`Sym` — a tensor operand. Lists hold one ``Sym`` per buffer (parameter, gradient, each state
  slot), standing for every tensor of a bucket at once, since every operation is elementwise. Each
  operation appends a line ``(op, out, operands, scalars)`` to the :class:`Program`; an in-place operation
  rebinds its ``Sym``, so aliasing (a list sharing a buffer) behaves as with real tensors.
* :class:`Scalar` — a number the rule computes in Python (``1 - b1 ** t``). It carries its value now and
  the expression that recomputes it from the group's hyperparameters, the step and the scalar state.
  A branch on a traced number (``if weight_decay == 0``) takes the branch the value says and records a
  *guard*. The program's :meth:`Program.evaluate` recomputes every scalar argument of the kernel for a new
  step or a new learning rate — the same double-precision arithmetic, in the same order, as the rule — and
  returns None when a guard no longer holds (then the rule is traced again).

The program's :attr:`Program.key` depends only on the structure of the rule — never on hyperparameter
values — so a changing learning rate or step reuses the same compiled kernel.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from optimlab.engine.scalars import f32 as _f32
from optimlab.rules import TABLE
from optimlab.rules.ops import SCALAR_FIELDS


class TracedScalarError(TypeError):
    """A rule converted a traced number to a Python float or int (the value would be frozen in)."""


class Tape:
    """The scalar computations of one trace: inputs, lines, guards (``Python`` source over temporaries)."""

    def __init__(self) -> None:
        self.inputs: list[tuple[str, str]] = []   # (name, source that loads it)
        self.lines: list[tuple[str, str]] = []    # (name, expression)
        self.guards: list[str] = []               # conditions that held when traced
        self.consts: dict[str, float] = {}

    def input(self, source: str, value: Any) -> "Scalar":
        name = f"x{len(self.inputs)}"
        self.inputs.append((name, source))
        return Scalar(self, name, value)

    def emit(self, expr: str, value: Any) -> "Scalar":
        name = f"t{len(self.lines)}"
        self.lines.append((name, expr))
        return Scalar(self, name, value)

    def ref(self, x: Any) -> str:
        """Source for ``x``: a traced scalar's name or an exact literal."""
        if isinstance(x, Scalar):
            if x.tape is not self:
                raise ValueError("a traced scalar from another trace")
            return x.name
        if isinstance(x, bool) or not isinstance(x, (int, float, np.floating, np.integer)):
            raise TypeError(f"a rule's scalar must be a number, got {type(x).__name__}")
        if isinstance(x, (int, np.integer)):
            return repr(int(x))
        x = float(x)
        if math.isfinite(x):
            return repr(x)
        name = f"c{len(self.consts)}"
        self.consts[name] = x
        return name


def _binary(op: str, fn: Callable, reflected: bool = False):
    def method(self: "Scalar", other: Any) -> "Scalar":
        if not isinstance(other, (Scalar, int, float, np.floating, np.integer)) or isinstance(other, bool):
            return NotImplemented
        ov = other.value if isinstance(other, Scalar) else other
        a, b = (self.tape.ref(other), self.name) if reflected else (self.name, self.tape.ref(other))
        value = fn(ov, self.value) if reflected else fn(self.value, ov)
        return self.tape.emit(f"{a} {op} {b}", value)
    return method


def _compare(op: str, fn: Callable):
    def method(self: "Scalar", other: Any) -> bool:
        if not isinstance(other, (Scalar, int, float, np.floating, np.integer)):
            return NotImplemented
        ov = other.value if isinstance(other, Scalar) else other
        result = bool(fn(self.value, ov))
        cond = f"{self.name} {op} {self.tape.ref(other)}"
        self.tape.guards.append(cond if result else f"not ({cond})")
        return result
    return method


class Scalar:
    """A traced number: ``value`` now, ``name`` in the tape that recomputes it."""

    __slots__ = ("tape", "name", "value")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, tape: Tape, name: str, value: Any) -> None:
        self.tape, self.name, self.value = tape, name, value

    __add__, __radd__ = _binary("+", operator.add), _binary("+", operator.add, True)
    __sub__, __rsub__ = _binary("-", operator.sub), _binary("-", operator.sub, True)
    __mul__, __rmul__ = _binary("*", operator.mul), _binary("*", operator.mul, True)
    __truediv__, __rtruediv__ = _binary("/", operator.truediv), _binary("/", operator.truediv, True)
    __pow__, __rpow__ = _binary("**", operator.pow), _binary("**", operator.pow, True)
    __lt__, __le__ = _compare("<", operator.lt), _compare("<=", operator.le)
    __gt__, __ge__ = _compare(">", operator.gt), _compare(">=", operator.ge)
    __eq__, __ne__ = _compare("==", operator.eq), _compare("!=", operator.ne)  # type: ignore[assignment]

    def __neg__(self) -> "Scalar":
        return self.tape.emit(f"-{self.name}", -self.value)

    def __pos__(self) -> "Scalar":
        return self

    def __abs__(self) -> "Scalar":
        return self.tape.emit(f"abs({self.name})", abs(self.value))

    def _call(self, name: str) -> "Scalar":
        """``math.<name>(self)`` (:mod:`optimlab.rules.scalar_math`), recorded."""
        return self.tape.emit(f"math.{name}({self.name})", getattr(math, name)(self.value))

    def __bool__(self) -> bool:
        result = bool(self.value)
        self.tape.guards.append(f"{self.name} != 0" if result else f"{self.name} == 0")
        return result

    def _frozen(self, *_: Any) -> Any:
        raise TracedScalarError("a rule converted a traced scalar to a Python number (float(), int(), math.*): "
                                "use plain arithmetic so the value is recomputed every step")

    __float__ = __int__ = __index__ = __round__ = __trunc__ = _frozen

    def __repr__(self) -> str:
        return f"Scalar({self.name}={self.value!r})"


class Sym:
    """A symbolic tensor: ``ref`` names its current value in the program."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Sym({self.ref})"


class Program:
    """The recorded tensor lines, the kernel's scalar arguments and the buffers a traced chain touches."""

    def __init__(self, buffers: Sequence[str], compute_dtype: np.dtype) -> None:
        self.buffers = tuple(buffers)
        self.inputs = {name: Sym(f"x{i}") for i, name in enumerate(self.buffers)}
        self.initial = {name: sym.ref for name, sym in self.inputs.items()}
        self.lines: list[tuple] = []
        self.args: list[str] = []          # kernel scalar arguments, as tape sources
        self.arg_values: list[float] = []  # ... and their values in this trace
        self.writes: list[tuple[str, str]] = []  # scalar state: (slot, source of its new value)
        self.dtype = np.dtype(compute_dtype)
        self.tape = Tape()
        self._evaluate: Callable | None = None

    # -- recording -------------------------------------------------------------------------------
    def arg(self, value: Any) -> int:
        self.args.append(self.tape.ref(value))
        self.arg_values.append(float(value.value if isinstance(value, Scalar) else value))
        return len(self.args) - 1

    def emit(self, op: str, operands: Sequence[Sym], scalars: Sequence[Any] = ()) -> str:
        out = f"t{len(self.lines)}"
        ks = tuple(self.arg(s) for s in scalars)
        self.lines.append((op, out, tuple(x.ref for x in operands), ks))
        return out

    def scale_state(self, name: str, current: Scalar, factor: Any, dtype: str) -> Scalar:
        """``state *= factor`` in the state's dtype (as torch's in-place multiply of a 0-d tensor)."""
        if dtype == "float32":
            value = _f32(current.value * _f32(factor.value if isinstance(factor, Scalar) else factor))
            new = self.tape.emit(f"f32({current.name} * f32({self.tape.ref(factor)}))", value)
        else:
            new = current * factor
        self.writes.append((name, new.name))
        return new

    def set_state(self, name: str, value: Any, dtype: str, via: str = "float32") -> Scalar:
        """``state = value`` as torch's ``state.copy_(torch.as_tensor(value))``: rounded to ``via`` (the default
        scalar dtype), then to the state's dtype."""
        v = value.value if isinstance(value, Scalar) else value
        if dtype == "float32" or via == "float32":
            new = self.tape.emit(f"f32({self.tape.ref(value)})", _f32(v))
        else:
            new = self.tape.emit(f"float({self.tape.ref(value)})", float(v))
        self.writes.append((name, new.name))
        return new

    # -- reading ---------------------------------------------------------------------------------
    def stores(self) -> tuple[tuple[int, str], ...]:
        """``(buffer index, final ref)`` for every buffer whose value changed (the gradient never is)."""
        out = []
        for i, name in enumerate(self.buffers):
            ref = self.inputs[name].ref
            if ref != self.initial[name]:
                if name == "grad":
                    raise RuntimeError("a transform modified the gradient in place; rules must use "
                                       "out-of-place ops on the incoming update")
                out.append((i, ref))
        return tuple(out)

    def loads(self) -> tuple[tuple[int, str], ...]:
        """``(buffer index, initial ref)`` for every buffer the kernel must load."""
        used = {ref for _, _, operands, _ in self.lines for ref in operands}
        used.update(ref for _, ref in self.stores())
        return tuple((i, self.initial[name]) for i, name in enumerate(self.buffers) if self.initial[name] in used)

    def touched(self) -> list[int]:
        """Indices of the buffers the kernel loads or stores."""
        return sorted({i for i, _ in self.loads()} | {i for i, _ in self.stores()})

    def expressions(self, formulas: Mapping[str, str], **names: str):
        """``(out, expression)`` per line, each op written with ``formulas`` (a code generator's column of the
        op table), operands as ``{a}``, ``{b}``, ``{c}``, the scalar arguments as ``{s}``, ``{t}`` (named ``s<k>``)."""
        for op, out, operands, ks in self.lines:
            fields = dict(zip("abc", operands), **names)
            fields.update(zip(SCALAR_FIELDS, (f"s{k}" for k in ks)))
            yield out, formulas[op].format(**fields)

    @property
    def key(self) -> tuple:
        """The structure: what selects (and caches) a kernel. Scalar values are not part of it."""
        return (self.buffers, tuple(self.lines), self.stores())

    @property
    def scalars(self) -> list[float]:
        """The kernel's scalar arguments with the values of this trace."""
        return list(self.arg_values)

    # -- re-evaluation ---------------------------------------------------------------------------
    def source(self) -> str:
        """Python source of ``evaluate(g, step, sv)``: the kernel's scalar arguments and the scalar
        state's new values, or None where a guard fails."""
        lines = ["def evaluate(g, step, sv):"]
        lines += [f"    {name} = {src}" for name, src in self.tape.inputs]
        lines += [f"    {name} = {expr}" for name, expr in self.tape.lines]
        if self.tape.guards:
            lines.append(f"    if not ({' and '.join(f'({c})' for c in self.tape.guards)}):")
            lines.append("        return None")
        args = "".join(f"{a}, " for a in self.args)
        writes = "".join(f"{src}, " for _, src in self.writes)
        lines.append(f"    return ({args}), ({writes})")
        return "\n".join(lines) + "\n"

    def evaluate(self, group: Mapping[str, Any], step: float | None, scalar_values: Mapping[str, float]):
        """``(kernel scalar arguments, new scalar-state values)`` for this group, step and scalar state; None
        when the rule would now take another branch."""
        if self._evaluate is None:
            namespace = {"f32": _f32, "math": math, **self.tape.consts}
            exec(compile(self.source(), "<optimlab scalar program>", "exec"), namespace)  # our own generated code
            self._evaluate = namespace["evaluate"]
        return self._evaluate(group, step, scalar_values)


class TraceOps:
    """The operations of :mod:`optimlab.rules.ops`, recorded into ``program`` (derived from the op table)."""

    name = "trace"

    def __init__(self, program: Program) -> None:
        self.program = program


def _traced(op_name: str, arity: int, n_scalars: int, inplace: bool) -> Callable:
    def method(self: TraceOps, xs, *rest):
        cut = len(rest) - n_scalars
        lists, scalars = rest[:cut], rest[cut:]
        prog = self.program
        if inplace:
            for x, *others in zip(xs, *lists):
                x.ref = prog.emit(op_name, (x, *others), scalars)
            return xs
        return [Sym(prog.emit(op_name, (x, *others), scalars)) for x, *others in zip(xs, *lists)]
    method.__name__ = op_name + ("_" if inplace else "")
    return method


def _copy_(self: TraceOps, xs, ys):
    for x, y in zip(xs, ys):
        x.ref = y.ref
    return xs


for _op in TABLE:
    if _op.name == "copy":
        TraceOps.copy_ = _copy_
        continue
    setattr(TraceOps, _op.name, _traced(_op.name, _op.arity, len(_op.scalars), False))
    if _op.has_inplace:
        setattr(TraceOps, _op.name + "_", _traced(_op.name, _op.arity, len(_op.scalars), True))
