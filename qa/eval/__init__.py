"""Evaluation harness: metrics, data loaders, runs and reports (``qa eval``)."""
