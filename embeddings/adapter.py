"""A query-side linear adapter, trained without labels on the indexed documents.

Short queries ("tenir la trésorerie") and long profiles ("Comptable à la retraite, j'ai
tenu les comptes…") do not sit in the same region of a general-purpose embedding space.
The adapter learns a residual linear map ``q' = normalise(q + q·M)`` that pulls a piece
of a document towards the rest of the same document, and away from other documents
(InfoNCE with in-batch negatives). Only queries are mapped, so the document vectors
in FAISS stay as they are; an adapter can be trained, replaced or dropped at any time.

Training pairs come from the documents alone: each sentence of a document is a query,
the document without that sentence is its positive. No relevance judgement is used.

Example:
    >>> adapter = QueryAdapter.fit(encoder, documents, sentences=my_splitter)  # doctest: +SKIP
    >>> adapter.apply(encoder.encode(["tenir la trésorerie"], kind="query"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder


class QueryAdapter:
    """Residual linear map applied to query vectors.

    Args:
        matrix: the (dim, dim) matrix M.
        model_id: the encoder the adapter was trained for.
        info: training facts (pairs, epochs, loss...).
    """

    def __init__(self, matrix: np.ndarray, model_id: str, info: dict[str, Any] | None = None) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.model_id = model_id
        self.info = info or {}

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, queries: np.ndarray) -> np.ndarray:
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        out = q + q @ self.matrix
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    # -- training ------------------------------------------------------------------------
    @staticmethod
    def pairs(
        documents: Sequence[str],
        sentences: Callable[[str], list[str]],
        rewrite: Callable[[str], str] | None = None,
    ) -> tuple[list[str], list[str], list[int]]:
        """(query sentences, positive contexts, owner document index) from the documents.

        ``rewrite`` turns a document sentence into the shape queries have (e.g. a verb phrase).
        """
        queries, contexts, owners = [], [], []
        for i, doc in enumerate(documents):
            parts = sentences(doc)
            if len(parts) < 2:
                continue
            for j, part in enumerate(parts):
                queries.append(rewrite(part) if rewrite else part)
                contexts.append(" ".join(parts[:j] + parts[j + 1 :]))
                owners.append(i)
        return queries, contexts, owners

    @classmethod
    def fit(
        cls,
        encoder: Encoder,
        documents: Sequence[str],
        *,
        sentences: Callable[[str], list[str]],
        rewrite: Callable[[str], str] | None = None,
        epochs: int = 10,
        learning_rate: float = 3e-4,
        temperature: float = 0.05,
        batch_size: int = 512,
        seed: int = 0,
        min_pairs: int = 1000,
    ) -> QueryAdapter | None:
        """Train on the documents; None when they give fewer than ``min_pairs`` pairs."""
        queries, contexts, owners = cls.pairs(documents, sentences, rewrite)
        if len(queries) < min_pairs:
            return None
        import torch

        torch.manual_seed(seed)
        xq = torch.from_numpy(np.asarray(encoder.encode(queries, kind="query"), dtype=np.float32))
        xp = torch.from_numpy(np.asarray(encoder.encode(contexts, kind="document"), dtype=np.float32))
        owner = torch.tensor(owners)
        dim = xq.shape[1]
        m = torch.zeros(dim, dim, requires_grad=True)
        opt = torch.optim.Adam([m], lr=learning_rate)
        generator = torch.Generator().manual_seed(seed)
        last = 0.0
        for _ in range(epochs):
            order = torch.randperm(len(xq), generator=generator)
            for start in range(0, len(xq), batch_size):
                b = order[start : start + batch_size]
                q = torch.nn.functional.normalize(xq[b] + xq[b] @ m, dim=1)
                logits = q @ xp[b].T / temperature
                # other sentences of the same document are not negatives
                same = (owner[b][:, None] == owner[b][None, :]) & ~torch.eye(len(b), dtype=torch.bool)
                logits = logits.masked_fill(same, -1e9)
                loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(b)))
                opt.zero_grad()
                loss.backward()
                opt.step()
                last = float(loss)
        info = {"pairs": len(queries), "documents": len(documents), "epochs": epochs, "final_loss": round(last, 4)}
        return cls(m.detach().numpy(), encoder.model_id, info)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write atomically (temp file + ``os.replace``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"model_id": self.model_id, "info": self.info}).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, matrix=self.matrix, meta=np.frombuffer(meta, dtype=np.uint8))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> QueryAdapter:
        with np.load(path) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            return cls(data["matrix"], meta["model_id"], meta.get("info"))
