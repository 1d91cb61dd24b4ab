"""Partner routing on other draws of the demo generator (robustness of `eval --demo`).

The shipped demo is seed 42; this draws territories with other seeds (150 projects each),
evaluates them with the service's pipeline and prints top-1 per seed as JSON lines.

    .venv/bin/python scripts/routing_seeds.py [--weights W] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from data.generate_demo import generate
from matching.evaluation import run_demo_evaluation
from matching.scoring import Weights
from matching.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None, help="weights.json (default: the packaged one)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--projects", type=int, default=150)
    args = parser.parse_args()
    weights = Weights.load(args.weights) if args.weights else None
    tops = []
    with tempfile.TemporaryDirectory(prefix="maillage-seeds-") as tmp:
        for seed in args.seeds:
            doc, truth = generate(members=60, projects=args.projects, seed=seed)
            d = Path(tmp) / str(seed)
            d.mkdir()
            (d / "doc.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            (d / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
            r = run_demo_evaluation(
                settings=Settings(data_dir=d / "var"), weights=weights, doc_path=d / "doc.json", truth_path=d / "truth.json"
            )
            routing = r["routing"]
            tops.append(routing["top1_current"])
            by_stage = {k: round(v["top1_current"], 2) for k, v in routing["by_stage"].items()}
            print(
                json.dumps(
                    {
                        "seed": seed,
                        "top1_current": round(routing["top1_current"], 3),
                        "top1_next": round(routing["top1_next"], 3),
                        "by_stage": by_stage,
                    }
                ),
                flush=True,
            )
    print(json.dumps({"mean_top1_current": round(sum(tops) / len(tops), 3)}))


if __name__ == "__main__":
    main()
