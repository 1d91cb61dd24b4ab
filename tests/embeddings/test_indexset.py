"""The index set: dense channels and the lexical index of each kind, opened, changed and saved as one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embeddings import CachedEncoder, MemoryVectorCache, text_hash
from embeddings.indexset import IndexSet
from matching.text import lexical_tokens


class Source:
    """Documents per kind, as a store would give them."""

    def __init__(self, docs: dict[str, dict[int, str]]) -> None:
        self.docs = docs

    def documents(self, kind: str) -> list[tuple[int, str, str]]:
        return [(pk, text, text_hash(text)) for pk, text in sorted(self.docs[kind].items())]

    def text_hashes(self, kind: str) -> dict[int, str]:
        return {pk: text_hash(text) for pk, text in self.docs[kind].items()}


@dataclass
class Change:
    upserted: dict[str, dict[int, str]] = field(default_factory=dict)
    removed: dict[str, set[int]] = field(default_factory=dict)


DOCS = {
    "person": {1: "Comptable à la retraite", 2: "Jardinière en permaculture", 3: "Développeur web"},
    "offer": {7: "Un bureau partagé à Sceaux"},
}


def two_channels(use_encoder, minilm_encoder, path, cache=None) -> IndexSet:
    cache = cache or MemoryVectorCache()
    channels = {"use": CachedEncoder(use_encoder, cache), "minilm": CachedEncoder(minilm_encoder, cache)}
    return IndexSet(["person", "offer"], channels, path, analyzer=lexical_tokens)


def test_open_builds_every_channel_then_loads_what_matches(use_encoder, minilm_encoder, tmp_path) -> None:
    source = Source({k: dict(v) for k, v in DOCS.items()})
    cache = MemoryVectorCache()
    indexes = two_channels(use_encoder, minilm_encoder, tmp_path, cache)
    assert indexes.open(source) == {"person": "rebuilt", "offer": "rebuilt"}
    assert indexes.dense("person").dim == use_encoder.dim and indexes.dense("person", "minilm").dim == minilm_encoder.dim
    assert indexes.index_path("person") != indexes.index_path("person", "minilm")
    again = two_channels(use_encoder, minilm_encoder, tmp_path, cache)
    assert again.open(source) == {"person": "loaded", "offer": "loaded"}
    source.docs["person"][2] = "Jardinière, potager partagé"  # another process changed a text
    assert two_channels(use_encoder, minilm_encoder, tmp_path, cache).open(source)["person"] == "rebuilt"


def test_apply_changes_every_channel_and_the_lexical_index(use_encoder, minilm_encoder, tmp_path) -> None:
    source = Source({k: dict(v) for k, v in DOCS.items()})
    indexes = two_channels(use_encoder, minilm_encoder, tmp_path)
    indexes.open(source)
    before = indexes.fingerprint("person")
    change = Change(upserted={"person": {4: "Trésorière d'une association"}}, removed={"person": {3}})
    indexes.apply(change, indexes.prepare({"person": ["Trésorière d'une association"]}))
    for channel in ("use", "minilm"):
        assert indexes.dense("person", channel).id_array().tolist() == [1, 2, 4]
    assert [h.id for h in indexes.lexical("person").search("trésorerie", k=3)] == [4]
    assert indexes.fingerprint("person") != before
    # apply changes memory only; a snapshot saves the kinds it touched, and a new process loads them
    source.docs["person"] = {1: DOCS["person"][1], 2: DOCS["person"][2], 4: "Trésorière d'une association"}
    assert indexes.saving.dirty == {"person"}
    assert two_channels(use_encoder, minilm_encoder, tmp_path).open(source)["person"] == "rebuilt"  # not saved yet
    indexes.open(source)
    indexes.apply(change, indexes.prepare({"person": ["Trésorière d'une association"]}))
    assert indexes.snapshot(position=7) == ["person"] and not indexes.saving.dirty
    assert two_channels(use_encoder, minilm_encoder, tmp_path).open(source)["person"] == "loaded"


def test_apply_without_prepared_vectors_reads_the_cache(use_encoder, tmp_path) -> None:
    """A change made elsewhere (another process) brings no vectors: they come from the shared cache."""
    cache = MemoryVectorCache()
    counting = []

    class Counting:
        model_id, dim = use_encoder.model_id, use_encoder.dim

        def encode(self, texts, *, kind="document"):
            counting.extend(texts)
            return use_encoder.encode(texts, kind=kind)

    writer = IndexSet(["person"], {"use": CachedEncoder(use_encoder, cache)}, tmp_path / "a", analyzer=lexical_tokens)
    reader = IndexSet(["person"], {"use": CachedEncoder(Counting(), cache)}, tmp_path / "b", analyzer=lexical_tokens)
    source = Source({"person": dict(DOCS["person"])})
    writer.open(source)
    reader.open(source)
    counting.clear()
    writer.prepare({"person": ["Couturière, retouches"]})  # the writer encodes, the cache keeps it
    reader.apply(Change(upserted={"person": {5: "Couturière, retouches"}}))
    assert counting == []  # not encoded again
    assert np.allclose(reader.dense("person").vector(5), writer.encoder.encode(["Couturière, retouches"])[0])


def test_query_vectors_go_through_the_kind_adapter_only_when_asked(use_encoder, tmp_path) -> None:
    indexes = IndexSet(["person"], {"use": CachedEncoder(use_encoder, MemoryVectorCache())}, tmp_path, analyzer=lexical_tokens)
    indexes.open(Source({"person": dict(DOCS["person"])}))
    plain = indexes.query_vector("tenir la trésorerie")
    assert np.allclose(plain, indexes.query_vector("tenir la trésorerie", "person"))  # no adapter trained
    assert indexes.query_vectors(["a", "b"]).shape == (2, use_encoder.dim)
    status = indexes.status({"person": 3})["person"]
    assert status["in_sync"] and status["count"] == 3 and len(status["fingerprint"]) == 16
