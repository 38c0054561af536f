"""Shared foundations every stage may use.

Files, hashes, the base model, SQuAD data and metrics, question analysis. Imports
nothing of ``qa`` but ``qa.types`` and ``qa.settings``.
"""
