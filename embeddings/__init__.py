"""Text -> vectors -> nearest ids. Knows nothing about members or projects."""

from embeddings.cache import CachedEncoder, MemoryVectorCache, VectorCache, text_hash
from embeddings.encoder import Encoder, EncoderError, build_encoder
from embeddings.index import Hit, IndexMismatch, IndexPolicy, VectorIndex

__all__ = [
    "CachedEncoder",
    "Encoder",
    "EncoderError",
    "Hit",
    "IndexMismatch",
    "IndexPolicy",
    "MemoryVectorCache",
    "VectorCache",
    "VectorIndex",
    "build_encoder",
    "text_hash",
]
