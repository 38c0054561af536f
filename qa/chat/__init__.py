"""The Gradio chat web UI (``qa chat``).

Import the pieces from their modules (``qa.chat.app``, ``qa.chat.backend``, ``qa.chat.render``);
this package imports nothing heavy, so ``qa --help`` stays fast.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

__all__ = ["ChatBackend", "build_app", "launch"]


def __getattr__(name: str):
    if name in __all__:
        from qa.chat import app

        return getattr(app, name)
    raise AttributeError(name)
