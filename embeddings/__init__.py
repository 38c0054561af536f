"""Sentence encoders and the FAISS vector index (knows nothing of ``qa``)."""

from embeddings.encoder import Encoder, SentenceEncoder, default_model_path
from embeddings.vector_index import VectorIndex, brute_force_search

__all__ = ["Encoder", "SentenceEncoder", "VectorIndex", "brute_force_search", "default_model_path"]
