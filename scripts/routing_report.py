"""Markdown tables of partner routing from `maillage eval --demo` (JSON on stdin).

.venv/bin/maillage eval --demo 2>/dev/null | .venv/bin/python scripts/routing_report.py
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    result = json.load(sys.stdin)
    routing = result["routing"]
    print(
        f"Top-1 current stage: {routing['top1_current']:.3f} — next stage: {routing['top1_next']:.3f} "
        f"— MRR of the expected offering: {routing['mrr_offerings']:.3f} ({routing['n_projects']} projects)\n"
    )
    print("| stage | projects | top-1 (current stage) |\n|---|---|---|")
    for stage, stats in routing["by_stage"].items():
        print(f"| {stage} | {stats['n']} | {stats['top1_current']:.2f} |")
    confusion = routing["confusion"]
    proposed = sorted({p for row in confusion.values() for p in row})
    print("\nConfusion (rows: expected offering, columns: proposed)\n")
    print("| expected \\ proposed | " + " | ".join(proposed) + " |")
    print("|---|" + "---|" * len(proposed))
    for expected in sorted(confusion):
        row = confusion[expected]
        print(f"| {expected} | " + " | ".join(str(row.get(p, "")) for p in proposed) + " |")


if __name__ == "__main__":
    main()
