"""Ray rebuild speed-up on 1 and 2 local workers (docs/performance.md). Prints JSON.

    .venv/bin/python benchmarks/ray_speedup.py --members 2000

Encodes the same texts (a generated territory's member texts) with ``encode_with_ray`` on
1 then 2 actors of a local Ray instance, the in-process encoder as the reference, in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--encoder", default="use-multilingual")
    args = parser.parse_args()
    import ray

    from data.generate_demo import generate
    from embeddings.distributed import encode_with_ray
    from embeddings.encoder import build_encoder
    from matching.domain import Member

    doc, _ = generate(members=args.members, projects=max(1, args.members // 5))
    texts = list(dict.fromkeys(Member.model_validate(m).text() for m in doc["members"]))
    out: dict = {"texts": len(texts), "cpus": os.cpu_count()}
    enc = build_encoder(args.encoder)
    enc.encode(texts[:8])
    t = time.perf_counter()
    enc.encode(texts)
    out["in_process_s"] = round(time.perf_counter() - t, 2)
    del enc
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        encode_with_ray(texts[:64], args.encoder, workers=2)  # start-up of the instance is not counted
        for workers in (1, 2):
            t = time.perf_counter()
            encode_with_ray(texts, args.encoder, workers=workers)
            out[f"ray_{workers}_workers_s"] = round(time.perf_counter() - t, 2)
    finally:
        ray.shutdown()
    out["speedup_2_over_1"] = round(out["ray_1_workers_s"] / out["ray_2_workers_s"], 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
