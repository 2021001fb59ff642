"""Import Keras on the TensorFlow backend, once, without TensorFlow's native chatter.

TensorFlow's C++ start-up lines (absl and oneDNN notices) ignore
``TF_CPP_MIN_LOG_LEVEL`` and are noise in a report tool's output, so the native
stderr is silenced while ``keras`` is imported. Python exceptions still raise.
Set ``COMPARE_TF_STDERR=1`` to see those lines.

Example:
    >>> from compare.adapters._keras_import import keras
    >>> keras.backend.backend()
    'tensorflow'
"""

from __future__ import annotations

import logging
import os
from typing import Any

__all__ = ["keras", "tf"]

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly() -> Any:
    if os.environ.get("COMPARE_TF_STDERR") == "1":
        import keras as module

        return module
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras as module
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return module


keras = _import_quietly()
import tensorflow as tf  # noqa: E402  (already imported, quietly, by keras)

# tf.function retracing notices (Keras' grouped convs trace once per new shape, which
# is exactly what a comparison of many layers does) are not the user's concern.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

if keras.backend.backend() != "tensorflow":  # pragma: no cover - environment guard
    raise ImportError(
        f"compare needs Keras on the TensorFlow backend; KERAS_BACKEND is "
        f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow before importing keras."
    )
