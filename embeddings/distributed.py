"""Bulk encoding on Ray Data: texts -> vectors with ``map_batches`` over actor pools.

Each actor of the pool loads the model once and encodes batches of texts; the same code
runs on a laptop (a local Ray instance started on demand) and on a Ray cluster (pass its
``address``, or set ``RAY_ADDRESS``): only the number of actors changes.

Order is carried through the dataset (an ``i`` column), so the result lines up with the
input whatever order Ray finishes the blocks in.

Example:
    >>> vectors = encode_with_ray(["bonjour", "au revoir"], "use-multilingual", workers=1)  # doctest: +SKIP
    >>> vectors.shape  # doctest: +SKIP
    (2, 512)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


class _EncodeActor:
    """Holds one model for the life of the actor (loading it per batch would dominate)."""

    def __init__(self, encoder: str, threads: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from embeddings.encoder import build_encoder

        self.encoder = build_encoder(encoder, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], kind="document")
        return {"i": batch["i"], "vector": vectors.astype(np.float32)}


def encode_with_ray(
    texts: list[str],
    encoder: str,
    *,
    workers: int = 1,
    batch_size: int = 256,
    address: str | None = None,
    threads_per_worker: int | None = None,
) -> np.ndarray:
    """Encode ``texts`` with ``workers`` model actors on Ray; one row per text, in order.

    Args:
        texts: documents to encode.
        encoder: the encoder setting (``use-multilingual``, ``minilm``, a model path...),
            built inside each actor.
        workers: actors in the pool (one model each).
        batch_size: texts per ``map_batches`` call.
        address: a Ray cluster (``ray://host:10001`` or ``auto``); default: ``RAY_ADDRESS``,
            else a local instance.
        threads_per_worker: BLAS threads per actor (default: local cores / workers).
    """
    import ray

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if not ray.is_initialized():
        init: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        address = address or os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, **init)
        else:
            ray.init(num_cpus=max(workers, os.cpu_count() or 1), **init)
    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=max(workers * 4, 1))
    encoded = ds.map_batches(
        _EncodeActor,
        fn_constructor_kwargs={"encoder": encoder, "threads": threads},
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=workers,
        num_cpus=1,
    )
    order, parts = [], []
    for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
        order.append(batch["i"])
        parts.append(np.asarray(batch["vector"], dtype=np.float32))
    idx = np.concatenate(order)
    vectors = np.vstack(parts)
    out = np.empty_like(vectors)
    out[idx] = vectors
    return out
