"""ROME 4.0 macro-competences: the skill codes calls for skills and members carry.

``data/rome4_macro_competences.csv`` holds the 506 macro-competences of France Travail's ROME 4.0
(code, French label; source and licence in ``data/README.md``). A call for skills (``Need.rome_skills``)
and a member (``Member.rome_skills``) carry codes from it, confirmed by a person; the service only
suggests them: the labels nearest to the text with the service's own encoder. The labels' vectors
go through the vector cache (encoded once per model, then read back) and the matrix is kept per
encoder in this process. The mission feed exports the codes as ``romeSkills``.

Example:
    >>> label("300412")  # doctest: +SKIP
    'Animer un réseau, une communauté'
    >>> suggest(rec.encoder, "tenir la comptabilité de l'association", k=3)  # doctest: +SKIP
    [Suggestion(code='...', label='...', score=0.61), ...]
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent.parent / "data" / "rome4_macro_competences.csv"
CODE_PATTERN = r"^\d{6}$"
_matrices: dict[tuple[int, str], Any] = {}  # (id of the encoder, model id) -> normalised label vectors
_lock = threading.Lock()


@dataclass(frozen=True)
class Suggestion:
    code: str
    label: str
    score: float  # cosine similarity mapped to [0, 1]


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """Code -> label, in the file's order."""
    with TABLE.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["label"] for row in csv.DictReader(fh)}


def label(code: str) -> str | None:
    return table().get(code)


def unknown(codes: list[str]) -> list[str]:
    """The codes that are not ROME 4.0 macro-competences."""
    known = table()
    return [c for c in codes if c not in known]


def _label_matrix(encoder: Any) -> Any:
    import numpy as np

    key = (id(encoder), str(getattr(encoder, "model_id", "")))
    with _lock:
        found = _matrices.get(key)
    if found is not None:
        return found
    vectors = np.asarray(encoder.encode(list(table().values()), kind="document"), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    with _lock:
        if len(_matrices) > 8:  # encoders of tests come and go
            _matrices.clear()
        _matrices[key] = vectors
    return vectors


def suggest(encoder: Any, text: str, *, k: int = 5) -> list[Suggestion]:
    """The ``k`` macro-competences whose labels are nearest to ``text`` (empty text: none)."""
    import numpy as np

    if not text.strip():
        return []
    matrix = _label_matrix(encoder)
    query = np.asarray(encoder.encode([text], kind="query"), dtype=np.float32)[0]
    query /= max(float(np.linalg.norm(query)), 1e-12)
    sims = matrix @ query
    order = np.argsort(-sims, kind="stable")[:k]
    codes = list(table())
    return [Suggestion(codes[i], table()[codes[i]], round(float(np.clip((sims[i] + 1) / 2, 0, 1)), 4)) for i in order.tolist()]
