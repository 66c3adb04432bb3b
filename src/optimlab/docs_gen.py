"""``optimlab optimizers``: the family from the registry, as a terminal table or ``docs/optimizers.md``.

The page is generated, never edited by hand: ``make docs`` rewrites it and a test checks it is current.
"""

from __future__ import annotations

import argparse
import inspect
import re

from optimlab import atomic
from optimlab.adapter.declare import TORCH_FLAGS
from optimlab.adapter.optimizer import ENGINE_OPTIONS
from optimlab.catalog import Spec, specs

HIDDEN = (*ENGINE_OPTIONS, *TORCH_FLAGS)
"""Options every optimizer has (documented once, above the tables), not repeated per optimizer."""


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def lineage_lines(all_specs: list[Spec]) -> list[str]:
    """One line per derived optimizer: ``Momentum + RMSprop → Adam``."""
    title = {s.name: s.title for s in all_specs}
    return [f"{' + '.join(title[p] for p in s.parents)} → {s.title}" for s in all_specs if s.parents]


def mermaid(all_specs: list[Spec]) -> str:
    lines = ["```mermaid", "graph LR", "  GD[\"GD (full batch)\"] --> sgd[SGD]"]
    for s in all_specs:
        for p in s.parents:
            lines.append(f"  {p}[{next(x.title for x in all_specs if x.name == p)}] --> {s.name}[{s.title}]")
    lines.append("```")
    return "\n".join(lines)


def _math(doc: str) -> str:
    """A docstring as Markdown: reST ``.. math::`` blocks become ``$$`` blocks, ``:math:`x``` becomes ``$x$``.

    ``Paper:`` lines are dropped (the page prints the spec's paper).
    """
    lines, out, i = inspect.cleandoc(doc).splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith(".. math::"):
            block = [line.strip()[len(".. math::"):].strip()]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i].strip())
                i += 1
            out += ["$$", *[b for b in block if b], "$$", ""]
            continue
        if not line.startswith("Paper:"):
            out.append(re.sub(r":math:`([^`]*)`", r"$\1$", line).replace(":class:", ""))
        i += 1
    return "\n".join(out)


def markdown(all_specs: list[Spec] | None = None) -> str:
    all_specs = all_specs or specs()
    parts = [
        "# The optimizer family",
        "",
        "Generated from the registry (`optimlab optimizers --write docs/optimizers.md`); do not edit by hand.",
        "Every optimizer is a drop-in `torch.optim.Optimizer` with torch.optim's argument names, order and "
        "defaults, including torch's `foreach`, `fused`, `differentiable` and `capturable` where torch has them, "
        "and takes the engine options `impl` (`\"auto\"`, `\"reference\"`, `\"foreach\"`, `\"fused\"`, "
        "`\"triton\"`) and `nonfinite` (`None`, `\"skip\"`, `\"raise\"`).",
        "",
        "## Lineage",
        "",
        "SGD is gradient descent on minibatches (GD when the batch is the whole data set). Each line below "
        "reads *built from → optimizer*:",
        "",
        *[f"- {line}" for line in lineage_lines(all_specs)],
        "",
        mermaid(all_specs),
        "",
        "## Hyperparameters and defaults",
        "",
        "| optimizer | family | hyperparameters (defaults) | lr search range | sparse grads | reference |",
        "|---|---|---|---|---|---|",
    ]
    for s in all_specs:
        hp = ", ".join(f"`{h.name}={_fmt(h.default)}`" for h in s.hypers if h.name not in HIDDEN)
        parts.append(f"| [{s.title}](#{s.name}) | {s.family} | {hp} | {s.lr_range[0]:g} – {s.lr_range[1]:g} | "
                     f"{'yes' if s.capabilities.sparse else 'no'} | {s.reference} |")
    parts += ["", "## Valid ranges", "", "| optimizer | hyperparameter | meaning | allowed |", "|---|---|---|---|"]
    for s in all_specs:
        for h in s.hypers:
            if h.name not in HIDDEN:
                parts.append(f"| {s.title} | `{h.name}` | {h.doc} | {h.allowed} |")
    for s in all_specs:
        parts += ["", f"<a id=\"{s.name}\"></a>", f"## {s.title}", "", f"*{s.summary}*", "",
                  _math(s.cls.__doc__ or ""), "", f"**Paper:** {s.paper}. **Learning-rate search range:** "
                  f"{s.lr_range[0]:g} – {s.lr_range[1]:g} (log-spaced).", ""]
    return "\n".join(parts).rstrip() + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", metavar="PATH", help="write the Markdown page here (e.g. docs/optimizers.md)")


def run(args: argparse.Namespace) -> int:
    if args.write:
        atomic.write_text(args.write, markdown())
        print(f"wrote {args.write}")
        return 0
    rows = specs()
    width = max(len(s.title) for s in rows)
    for s in rows:
        print(f"{s.name:<9} {s.title:<{width}}  {s.family:<16} lr {s.lr_range[0]:g}–{s.lr_range[1]:g}  {s.summary}")
    return 0
