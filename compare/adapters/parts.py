"""How an adapter finds what a kind registers for its framework (``compare.core.registry``).

The adapters never name a kind: they ask for a kind's part by the spec's ``kind``
(``find("torch", "build", layer.kind)``), or for the one part of a kind nothing
names (``only("torch", "post_activation")``: whichever family realises the
``activation`` field that ``Layer.post_activation`` layers apply after themselves).

While the built-in spec classes are not yet registered with ``@register_kind``, the
registry cannot tell which family a kind lives in; a lookup that finds nothing then
imports the framework module of every family under ``compare/kinds/`` once, and
asks again.

Example:
    >>> find("doctest", "no_such_part", "no_such_kind") is None
    True
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from compare.core import registry

__all__ = ["find", "load_every_family", "only"]

#: frameworks whose family modules have all been imported
_EVERY: set[str] = set()
#: (framework, what) -> the one part ``only`` found (looked up once: builds ask often)
_ONLY: dict[tuple[str, str], Any] = {}


def load_every_family(framework: str) -> None:
    """Import ``compare.kinds.<family>.<framework>`` for every family (once per framework).

    Example:
        >>> load_every_family("doctest")  # no family has a doctest module: nothing to do
    """
    if framework in _EVERY:
        return
    _EVERY.add(framework)
    package = importlib.import_module(registry.KINDS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        name = f"{registry.KINDS_PACKAGE}.{info.name}.{framework}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a family module that imports something missing
                raise


def find(framework: str, what: str, kind: str) -> Any | None:
    """``framework``'s ``what`` for ``kind`` (a builder, a defaults reader ...), or None.

    Example:
        >>> find("doctest", "no_such_part", "conv") is None
        True
    """
    found = registry.find_part(framework, what, kind)
    if found is None and framework not in _EVERY:
        load_every_family(framework)
        found = registry.find_part(framework, what, kind)
    return found


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
    found = registry.parts(framework, what)
    if not found:
        load_every_family(framework)
        found = registry.parts(framework, what, families=())
    if len(found) != 1:
        keys = ", ".join(sorted(map(str, found)))
        raise registry.RegistryError(
            f"one {framework} {what} expected, found {len(found)}" + (f": {keys}" if keys else "")
        )
    _ONLY[framework, what] = next(iter(found.values()))
    return _ONLY[framework, what]
