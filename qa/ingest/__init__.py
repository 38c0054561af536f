"""Ingest: parse inputs into articles, chunk, embed, and commit to the index.

See :mod:`qa.ingest.pipeline`.
"""
