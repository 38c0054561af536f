"""Extraction: pull answer spans out of retrieved passages, one passage at a time.

:class:`~qa.extract.base.Extractor` is the seam; :mod:`qa.extract.registry` lists the
implementations by name (the neural reader and the spaCy heuristic).
"""
