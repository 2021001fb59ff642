"""The field validators every kind uses: ints, tuples, padding, booleans, bounded floats.

Each raises ``compare.SpecError`` naming the field, the value and the rule; bools are
never taken for ints, nor ints for bools. Kinds call these from ``__post_init__`` so a
spec is checked once, at construction.

Example:
    >>> check_ints("kernel_size", [3, 3], 1)
    (3, 3)
"""

from __future__ import annotations

from typing import Any

from compare.errors import SpecError, quote
from compare.limits import INT64_MAX

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_ALIASES",
    "IntOrInts",
    "Padding",
    "as_tuple",
    "broadcast",
    "check_activation",
    "check_bool",
    "check_float",
    "check_int",
    "check_ints",
    "check_padding",
    "fmt",
]

IntOrInts = int | tuple[int, ...]
Padding = str | int | tuple[int, ...]

#: Canonical activation names: what the ``activation`` kind and the ``activation``
#: field of the conv and dense kinds accept (a vocabulary of functions, not of kinds).
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "softmax",
    "elu",
    "selu",
    "leaky_relu",
    "silu",
    "softplus",
    "hard_sigmoid",
    "hard_swish",
    "mish",
    "log_softmax",
)
#: Other spellings accepted on input.
ACTIVATION_ALIASES = {
    "swish": "silu",
    "identity": "linear",
    "none": "linear",
    "hard_silu": "hard_swish",
}


def fmt(value: Any) -> str:
    """A value as messages quote it (strings quoted, tuples as lists).

    Example:
        >>> fmt((3, "same"))
        "[3, 'same']"
    """
    if isinstance(value, tuple):  # anything long is abbreviated (``compare.errors.quote``)
        items = [fmt(v) if isinstance(v, str | int) else quote(v) for v in value[:8]]
        return "[" + ", ".join(items) + (", ...]" if len(value) > 8 else "]")
    return quote(value)


def check_int(name: str, value: Any, minimum: int) -> int:
    """An int >= ``minimum`` (never a bool).

    Example:
        >>> check_int("filters", True, 1)
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: filters=True must be an integer >= 1 (got bool)
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(
            f"{name}={fmt(value)} must be an integer >= {minimum} (got {type(value).__name__})"
        )
    if value < minimum:
        raise SpecError(f"{name}={fmt(value)} must be an integer >= {minimum}")
    if value > INT64_MAX:
        raise SpecError(f"{name}={fmt(value)} must be at most 2**63-1 (the frameworks' int64)")
    return value


def check_ints(name: str, value: Any, minimum: int) -> IntOrInts:
    """An int, or a non-empty sequence of ints; lists become tuples.

    Example:
        >>> check_ints("strides", [1, 0], 1)
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: strides=[1, 0] must hold integers >= 1 (got 0)
    """
    if isinstance(value, list | tuple):
        if not value:
            raise SpecError(f"{name}=[] must be an integer or a non-empty list of integers")
        items = tuple(value)
        for item in items:
            if (
                isinstance(item, bool)
                or not isinstance(item, int)
                or not minimum <= item <= INT64_MAX
            ):
                raise SpecError(
                    f"{name}={fmt(items)} must hold integers >= {minimum} (got {fmt(item)})"
                )
        return items
    return check_int(name, value, minimum)


def as_tuple(value: IntOrInts) -> tuple[int, ...]:
    """An int or a tuple of ints, as a tuple.

    Example:
        >>> as_tuple(2)
        (2,)
    """
    return (value,) if isinstance(value, int) else value


def broadcast(name: str, value: IntOrInts, rank: int) -> tuple[int, ...]:
    """One int per spatial axis: an int repeated, or a tuple of exactly ``rank``.

    Example:
        >>> broadcast("kernel_size", 3, 2)
        (3, 3)
    """
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise SpecError(
            f"{name}={fmt(value)} has {len(value)} values but the input has {rank} spatial axes"
        )
    return value


def check_padding(value: Any) -> Padding:
    """``"valid"``, ``"same"`` (any case), an int >= 0 or one int per axis.

    Example:
        >>> check_padding("SAME")
        'same'
    """
    if isinstance(value, str):
        low = value.lower()
        if low not in ("valid", "same"):
            raise SpecError(
                f"padding={quote(value)} must be 'valid', 'same', an integer or one integer "
                "per spatial axis"
            )
        return low
    return check_ints("padding", value, 0)


def check_bool(name: str, value: Any) -> bool:
    """True or false, nothing else (not 0 or 1).

    Example:
        >>> check_bool("use_bias", False)
        False
    """
    if not isinstance(value, bool):
        raise SpecError(f"{name}={fmt(value)} must be true or false")
    return value


def check_float(name: str, value: Any, low: float, high: float, *, closed_high: bool) -> float:
    """A number in [low, high] (or [low, high) when not ``closed_high``), as a float.

    Example:
        >>> check_float("rate", 1, 0.0, 1.0, closed_high=False)
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: rate=1.0 must lie in [0.0, 1.0)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{name}={fmt(value)} must be a number")
    try:
        value = float(value)
    except OverflowError:  # an integer past float's range
        bracket = "]" if closed_high else ")"
        raise SpecError(f"{name}={fmt(value)} must lie in [{low}, {high}{bracket}") from None
    bad_high = value > high if closed_high else value >= high
    if value < low or bad_high or value != value:
        bracket = "]" if closed_high else ")"
        raise SpecError(f"{name}={value} must lie in [{low}, {high}{bracket}")
    return value


def check_activation(name: str, value: Any) -> str:
    """Normalise an activation name (aliases resolved) or raise SpecError.

    Example:
        >>> check_activation("activation", "Swish")
        'silu'
    """
    if not isinstance(value, str):
        raise SpecError(f"{name}={fmt(value)} must be a string, one of {', '.join(ACTIVATIONS)}")
    low = value.strip().lower()
    low = ACTIVATION_ALIASES.get(low, low)
    if low not in ACTIVATIONS:
        raise SpecError(
            f"{name}={fmt(value)} is not a known activation; known: {', '.join(ACTIVATIONS)}"
        )
    return low
