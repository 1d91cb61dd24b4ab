"""Reasons a person trusts: what may be said of a semantic match, and the sentences that show it.

Three rules (issue 14, item 5), their numbers in ``data/text/reasons.json``:

- a semantic reason ("sens proche …") is given only when the semantic component reaches
  ``semantic_min`` and the quoted sentences ``sentence_min`` (an offering's typical request,
  when its ``examples`` component reaches ``example_min``), all calibrated on the suite's hand-written benchmarks by
  ``scripts/calibrate_reasons.py``: below them, two texts are no closer than unrelated ones
  usually are;
- the reason quotes the candidate's sentence that matched best against the request's:
  « j'ai tenu les comptes d'une PME » ↔ « tenir la trésorerie » (sentence vectors, kept in the
  encoder's memory: a text asked about again costs no encoding), leaving out the sentences
  about time, availability or place (``not_quoted``): they say when and where, not what;
- shared words never include filler, time or first-person words (``matching.text.shared_words``).

Example:
    >>> is_close(0.31), is_close(0.05)
    (True, False)
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from embeddings.indexset import IndexSet
from matching import text as textlib
from matching.settings import package_json


def policy() -> dict[str, Any]:
    """``data/text/reasons.json``: the thresholds of the reasons and what is never quoted."""
    return package_json("text/reasons.json")


def is_close(value: float | None) -> bool:
    """Whether a semantic value (a cosine in [0, 1]) is high enough to be given as a reason."""
    return value is not None and value >= float(policy()["semantic_min"])


def quote(text: str) -> str:
    """A sentence as quoted in a reason: one line, cut at a word under ``quote_max_chars``."""
    n = int(policy()["quote_max_chars"])
    text = " ".join(text.split()).rstrip(".;")
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=1)
def _not_quoted() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in policy()["not_quoted"]["patterns"]), re.IGNORECASE)


@lru_cache(maxsize=50_000)  # the read path quotes the same profiles and calls again and again
def quotable(text: str) -> tuple[str, ...]:
    """The sentences of a text a quote may show: not those about time, availability or place
    (``not_quoted`` in ``data/text/reasons.json``), unless there is nothing else."""
    parts = textlib.sentences(text) or [text]
    return tuple(s for s in parts if not _not_quoted().search(s)) or tuple(parts)


def best_sentence_pair(indexes: IndexSet, request: str, candidate: str) -> tuple[str, str, float]:
    """(the candidate's sentence, the request's sentence) closest in meaning, and their cosine."""
    asked, offered = quotable(request), quotable(candidate)
    vectors = indexes.query_vectors([*asked, *offered])
    sims = vectors[: len(asked)] @ vectors[len(asked) :].T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return offered[j], asked[i], float(sims[i, j])


def semantic_reason(indexes: IndexSet, request: str, candidate: str, value: float | None) -> str | None:
    """« candidate's sentence » ↔ « request's sentence »; None when the texts are not close
    (``semantic_min``) or no pair of their sentences is (``sentence_min``)."""
    if not is_close(value) or not request.strip() or not candidate.strip():
        return None
    offered, asked, cosine = best_sentence_pair(indexes, request, candidate)
    if cosine < float(policy()["sentence_min"]):
        return None
    return f"sens proche : « {quote(offered)} » ↔ « {quote(asked)} »"


def example_reason(example: str | None, value: float | None) -> str | None:
    """The partner's typical request closest to the project's, or None below ``example_min``."""
    if example is None or value is None or value < float(policy()["example_min"]):
        return None
    return f"demande type de l'offre : « {quote(example)} »"
