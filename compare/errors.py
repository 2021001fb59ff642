"""One error family for everything a user can get wrong.

``SpecError`` is a ``ValueError`` so callers that already catch bad values keep
working; its message always names where (model, layer, field), what was received,
and the rule that was broken.
"""

from __future__ import annotations

__all__ = ["SpecError", "SpecFileError", "UnknownAdapterError"]


class SpecError(ValueError):
    """A layer or model spec breaks a rule.

    Example:
        >>> raise SpecError("layer 1 (conv): filters=0 must be a positive integer")
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: layer 1 (conv): filters=0 must be a positive integer
    """


class SpecFileError(SpecError):
    """A spec file cannot be read or parsed; the message names the file (and line).

    Example:
        >>> str(SpecFileError("models.toml:3: expected '=' after a key"))
        "models.toml:3: expected '=' after a key"
    """


class UnknownAdapterError(KeyError):
    """An adapter name that is not registered; the message lists the known ones.

    Example:
        >>> str(UnknownAdapterError("unknown adapter 'jax'; known: keras, torch"))
        '"unknown adapter \\'jax\\'; known: keras, torch"'
    """
