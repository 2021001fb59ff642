"""One error family for everything a user can get wrong.

``SpecError`` is a ``ValueError`` so callers that already catch bad values keep
working; its message always names where (model, layer, field), what was received,
and the rule that was broken.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["QUOTE_LIMIT", "SpecError", "SpecFileError", "UnknownAdapterError", "quote"]

#: At most this many characters of a value are quoted in a message.
QUOTE_LIMIT = 60


class _Short(reprlib.Repr):
    """``repr`` with bounded work and length: a few items per container, two levels."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple = 2, 4, 6, 6
        self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 6
        self.maxstring = self.maxother = QUOTE_LIMIT

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() refuses ints of more than 4,300 digits
            return f"<an integer of {x.bit_length()} bits>"
        return repr(x)

    def repr_str(self, x: str, level: int) -> str:
        if len(x) <= QUOTE_LIMIT:
            return repr(x)
        return repr(x[: QUOTE_LIMIT - 3]) + f"... ({len(x):,} characters)"


_SHORT = _Short()


def quote(value: Any) -> str:
    """``repr(value)`` for a message, abbreviated with bounded work: a huge string, a
    huge integer or a deep or self-repeating structure is never spelled out.

    Example:
        >>> quote("same"), quote(3), quote(10**400)
        ("'same'", '3', '<an integer of 1329 bits>')
        >>> quote(list(range(100)))
        '[0, 1, 2, 3, 4, 5, ...]'
    """
    text = _SHORT.repr(value)
    return text if len(text) <= 2 * QUOTE_LIMIT else text[: 2 * QUOTE_LIMIT - 3] + "..."


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
