"""How an adapter finds what a kind registers for its framework (``compare.core.registry``).

The adapters never name a kind: they ask for a kind's part by the spec's ``kind``
(``find("torch", "build", layer.kind)``), or for the one part of a kind nothing
names (``only("torch", "post_activation")``: whichever family realises the
``activation`` field that ``Layer.post_activation`` layers apply after themselves).

Example:
    >>> find("doctest", "no_such_part", "no_such_kind") is None
    True
"""

from __future__ import annotations

from typing import Any

from compare.core import registry

__all__ = ["find", "only"]

#: (framework, what) -> the one part ``only`` found (looked up once: builds ask often)
_ONLY: dict[tuple[str, str], Any] = {}


def find(framework: str, what: str, kind: str) -> Any | None:
    """``framework``'s ``what`` for ``kind`` (a builder, a defaults reader ...), or None.

    Example:
        >>> find("doctest", "no_such_part", "conv") is None
        True
    """
    return registry.find_part(framework, what, kind)


def only(framework: str, what: str) -> Any:
    """The one ``what`` any family registers for ``framework``, whatever its key.

    Example:
        >>> only("doctest", "no_such_part")
        Traceback (most recent call last):
        ...
        compare.core.registry.RegistryError: one doctest no_such_part expected, found 0
    """
    if (framework, what) in _ONLY:
        return _ONLY[framework, what]
    registry.load_modules(framework)
    found = registry.parts(framework, what)
    if len(found) != 1:
        keys = ", ".join(sorted(map(str, found)))
        raise registry.RegistryError(
            f"one {framework} {what} expected, found {len(found)}" + (f": {keys}" if keys else "")
        )
    _ONLY[framework, what] = next(iter(found.values()))
    return _ONLY[framework, what]
