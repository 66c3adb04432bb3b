#!/usr/bin/env python3
"""Ranges over several runs of ``optimlab bench step``: the tables BENCHMARKS.md quotes.

Run the benchmark at least three times, each writing its own JSON, then::

    python benchmarks/ranges.py out/step-1.json out/step-2.json out/step-3.json

Every figure is printed as ``low–high`` over the runs (one number where they agree to the digits shown). Ratios
come from the same rounds of one run (optimlab and torch interleaved), so they are the figures to compare;
absolute ns/param move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _span(values: list[float], fmt: str) -> str:
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}–{hi}"


def _by(runs: list[dict], sizes: str, optimizer: str, contender: str) -> list[dict]:
    return [t for run in runs for t in run["timings"]
            if t["sizes"] == sizes and t["optimizer"] == optimizer and t["contender"] == contender]


def size_tables(runs: list[dict]) -> list[str]:
    lines: list[str] = []
    first = runs[0]["timings"]
    for sizes in dict.fromkeys(t["sizes"] for t in first):
        rows = [t for t in first if t["sizes"] == sizes and t["contender"] == "optimlab"]
        lines += [f"**{sizes}** — {rows[0]['params'] / 1e6:.1f}M params in {rows[0]['tensors']} tensors", "",
                  "| optimizer | B/param | ns/param | of roofline | Adam-scaled (target ≥ 0.9) | "
                  "speed-up vs torch foreach | vs torch fused |", "|---|---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            name = row["optimizer"]
            ours = _by(runs, sizes, name, "optimlab")
            cells = [name, str(row["bytes_per_param"]), _span([t["ns_per_param"] for t in ours], "{:.2f}"),
                     _span([t["of_roofline"] for t in ours], "{:.2f}"),
                     _span([t["of_adam_target"] for t in ours], "{:.2f}")]
            for contender in ("torch-foreach", "torch-fused"):
                theirs = _by(runs, sizes, name, contender)
                if len(theirs) != len(ours):
                    cells.append("–")
                    continue
                cells.append(_span([b["ns_per_param"] / a["ns_per_param"] for a, b in zip(ours, theirs)], "{:.2f}")
                             + "×")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def small_table(runs: list[dict]) -> list[str]:
    models = runs[0]["small_models_us_per_step"]
    names = list(next(iter(models.values())))
    lines = ["| optimizer | " + " | ".join(f"{m}: auto / torch (µs)" for m in models) + " | ratio, every model |",
             "|---|" + "---:|" * (len(models) + 1)]
    for name in names:
        cells, ratios = [name], []
        for model in models:
            got = [run["small_models_us_per_step"][model][name] for run in runs]
            if "ratio" not in got[0]:
                cells.append(_span([g["auto"] for g in got], "{:.0f}") + " / –")
                continue
            ratios += [g["ratio"] for g in got]
            cells.append(_span([g["auto"] for g in got], "{:.0f}") + " / " +
                         _span([g["torch-default"] for g in got], "{:.0f}"))
        cells.append(_span(ratios, "{:.2f}") if ratios else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def first_step_table(runs: list[dict]) -> list[str]:
    names = [k for k in runs[0]["first_step"]["cold"] if k != "import_s"]
    lines = ["| optimizer | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for state in ("cold", "warm"):
        lines.append(f"| {state} cache | " + " | ".join(
            _span([run["first_step"][state][n] for run in runs], "{:.2f}") for n in names) + " |")
    imports = {s: _span([run["first_step"][s]["import_s"] for run in runs], "{:.1f}") for s in ("cold", "warm")}
    return lines + ["", f"(import of torch + optimlab + numba: {imports['cold']} s cold, {imports['warm']} s warm)"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files written by `optimlab bench step --json`")
    args = parser.parse_args(argv)
    runs = [json.loads(p.read_text()) for p in args.runs]
    out = [f"Ranges over {len(runs)} runs.", ""] + size_tables(runs)
    out += ["Small models (µs per step, optimlab `auto` / torch.optim's default; target ratio ≤ 1.0):", ""]
    out += small_table(runs)
    if all(run.get("first_step") for run in runs):
        out += ["", "First step, seconds above two steady steps:", ""] + first_step_table(runs)
    print("\n".join(out))


if __name__ == "__main__":
    main()
