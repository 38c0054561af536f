"""Answering: compose and score answers, follow a conversation, serialise answers.

:mod:`.compose` (scoring in one place), :mod:`.conversation`, :mod:`.serialize`.
"""
