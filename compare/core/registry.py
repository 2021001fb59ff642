"""The kind registry: the one place the engines look a layer kind up.

A family of layer kinds lives in one package under ``compare/kinds/`` (or anywhere
else: a test registers a throwaway kind from its own file). Its framework-free
``spec`` module registers each spec class with ``@register_kind``; its ``torch`` and
``keras`` modules, imported on first use, register what that framework needs of the
kind (a builder, a defaults reader, an importer's mapping ...) with
``@register_part``. A second registration of the same kind, spelling or part is an
error, never an overwrite (onnx2torch's converter registry refuses duplicates too).

The engines never name a kind: they ask ``kind_class(name)`` for a spec class and
``part(framework, what, kind)`` for a framework part, which imports the family's
framework module the first time it is needed, so ``import compare`` imports no
framework.

Example:
    >>> from compare.core import registry
    >>> @registry.register_part("doctest", "greeting", "doctest_kind")
    ... def greet() -> str:
    ...     return "hello"
    >>> registry.part("doctest", "greeting", "doctest_kind")()
    'hello'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = [
    "ANY",
    "DIFFERENCES",
    "RegistryError",
    "differences_part",
    "family_of",
    "find_part",
    "kind_class",
    "kinds",
    "load_families",
    "load_modules",
    "part",
    "parts",
    "register_kind",
    "register_part",
    "spelling",
]

T = TypeVar("T")

#: kind name -> spec class
_KINDS: dict[str, type[Any]] = {}
#: alternative spelling of a kind (``conv2d``) -> (kind, rank)
_SPELLINGS: dict[str, tuple[str, int]] = {}
#: (framework, what, key) -> the registered object
_PARTS: dict[tuple[str, str, Any], Any] = {}
#: framework modules already imported, by family package
_LOADED: set[tuple[str, str]] = set()
_FAMILIES_LOADED = False
#: the built-in family packages, listed once
_PACKAGES: list[str] | None = None
#: Bumped by every (un)registration of a kind; ``load_modules`` skips a module whose
#: families were all imported at the current generation (engines ask on every layer).
_GENERATION = 0
_COVERED: dict[str, int] = {}

#: The package whose sub-packages are the built-in families.
KINDS_PACKAGE = "compare.kinds"

#: The framework of a framework-free part: ``register_part(ANY, "naive_checks", kind)``.
ANY = "any"
#: A family's framework-free module of named differences and naive-port checks.
DIFFERENCES = "differences"
#: framework-free family modules already imported for every built-in family


class RegistryError(Exception):
    """A registration that would overwrite another one, or a lookup of nothing.

    Example:
        >>> str(RegistryError("kind 'conv' is registered twice"))
        "kind 'conv' is registered twice"
    """


def register_kind(cls: type[T]) -> type[T]:
    """Class decorator: make a spec class known by its ``kind`` (and ``spellings``).

    ``cls.spellings`` may map extra names to a rank (``{"conv2d": 2}``); a second
    class for the same kind or spelling raises ``RegistryError``.

    Example:
        >>> @register_kind
        ... class Twice:
        ...     kind = "doctest_twice"
        >>> register_kind(Twice)
        Traceback (most recent call last):
        ...
        compare.core.registry.RegistryError: kind 'doctest_twice' is registered twice: ...
        >>> unregister_kind("doctest_twice")
    """
    name = getattr(cls, "kind", "")
    if not isinstance(name, str) or not name:
        raise RegistryError(f"{cls.__qualname__} has no kind name")
    if name in _KINDS or name in _SPELLINGS:
        other = _KINDS.get(name) or _KINDS[_SPELLINGS[name][0]]
        raise RegistryError(f"kind {name!r} is registered twice: {_where(other)} and {_where(cls)}")
    spellings: dict[str, int] = dict(getattr(cls, "spellings", {}) or {})
    for alias in spellings:
        if alias in _KINDS or alias in _SPELLINGS:
            raise RegistryError(f"kind spelling {alias!r} of {name!r} is registered twice")
    _KINDS[name] = cls
    for alias, rank in spellings.items():
        _SPELLINGS[alias] = (name, rank)
    _bump()
    return cls


def unregister_kind(name: str) -> None:
    """Forget a kind and everything registered for it (tests use throwaway kinds).

    Example:
        >>> unregister_kind("no_such_kind")  # nothing to forget: no error
    """
    _KINDS.pop(name, None)
    _bump()
    for alias in [a for a, (k, _) in _SPELLINGS.items() if k == name]:
        del _SPELLINGS[alias]
    for key in [k for k in _PARTS if k[2] == name]:
        del _PARTS[key]


def _bump() -> None:
    global _GENERATION
    _GENERATION += 1


def _where(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def load_families() -> None:
    """Import every built-in family's framework-free ``spec`` module (once).

    Example:
        >>> load_families()
    """
    global _FAMILIES_LOADED
    if _FAMILIES_LOADED:
        return
    _FAMILIES_LOADED = True
    package = importlib.import_module(KINDS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.ispkg:
            name = f"{KINDS_PACKAGE}.{info.name}.spec"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # a family whose spec imports something missing
                    raise


def load_modules(module: str) -> None:
    """Import the module named ``module`` of every family, once each, in name order: every
    sub-package of ``compare.kinds`` and the package of every kind registered elsewhere.

    A family without such a module is skipped. Engines use it to load the parts they
    look up by a framework class rather than by kind (an importer's ``from_torch``).

    Example:
        >>> load_modules("no_such_module")  # no family has one: nothing to import
    """
    global _PACKAGES
    if _COVERED.get(module) == _GENERATION:  # no kind registered since the last call
        return
    if _PACKAGES is None:
        package = importlib.import_module(KINDS_PACKAGE)
        _PACKAGES = [
            f"{KINDS_PACKAGE}.{info.name}"
            for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
            if info.ispkg
        ]
    names = _PACKAGES + sorted({family_of(kind) for kind in kinds()} - set(_PACKAGES))
    for family in names:
        if (family, module) in _LOADED:
            continue
        _LOADED.add((family, module))
        try:
            importlib.import_module(f"{family}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{family}.{module}", family):
                raise
    _COVERED[module] = _GENERATION


def kinds() -> dict[str, type[Any]]:
    """Every registered kind name -> its spec class.

    Example:
        >>> isinstance(kinds(), dict)
        True
    """
    load_families()
    return dict(_KINDS)


def kind_class(name: str) -> type[Any]:
    """The spec class of a kind; ``KeyError`` when no family registered it.

    Example:
        >>> kind_class("no_such_kind")
        Traceback (most recent call last):
        ...
        KeyError: 'no_such_kind'
    """
    load_families()
    return _KINDS[name]


def spelling(name: str) -> tuple[str, int] | None:
    """(kind, rank) for an explicit-rank spelling such as ``conv2d``, else None.

    Example:
        >>> spelling("no_such_kind3d") is None
        True
    """
    load_families()
    return _SPELLINGS.get(name)


def family_of(kind: str) -> str:
    """The package a kind's spec class lives in (where its framework modules are).

    Example:
        >>> @register_kind
        ... class Elsewhere:
        ...     kind = "doctest_elsewhere"
        >>> family_of("doctest_elsewhere") == __name__
        True
        >>> unregister_kind("doctest_elsewhere")
    """
    module = kind_class(kind).__module__
    return module.rsplit(".", 1)[0] if module.endswith(".spec") else module


def register_part(framework: str, what: str, *keys: Any) -> Callable[[T], T]:
    """Decorator: register ``obj`` as ``framework``'s ``what`` for each key.

    A key is usually a kind name (``register_part("torch", "build", "conv")``), or a
    framework class an importer maps (``register_part("torch", "module", nn.Conv2d)``).
    A second registration of the same (framework, what, key) raises ``RegistryError``.

    Example:
        >>> @register_part("doctest", "hello", "dense")
        ... def hello() -> str:
        ...     return "hi"
        >>> part("doctest", "hello", "dense")()
        'hi'
        >>> register_part("doctest", "hello", "dense")(hello)
        Traceback (most recent call last):
        ...
        compare.core.registry.RegistryError: doctest hello for 'dense' is registered twice: ...
    """

    def add(obj: T) -> T:
        for key in keys:
            slot = (framework, what, key)
            if slot in _PARTS:
                raise RegistryError(
                    f"{framework} {what} for {_key_text(key)} is registered twice: "
                    f"{_where(_PARTS[slot])} and {_where(obj)}"
                )
            _PARTS[slot] = obj
        return obj

    return add


def _key_text(key: Any) -> str:
    return repr(key) if isinstance(key, str) else getattr(key, "__qualname__", repr(key))


def _load_framework(framework: str, kind: str) -> None:
    """Import the family module of ``kind`` for ``framework`` (``compare.kinds.conv.torch``)."""
    if kind not in _KINDS:
        return
    family = family_of(kind)
    if (family, framework) in _LOADED:
        return
    _LOADED.add((family, framework))
    try:
        importlib.import_module(f"{family}.{framework}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{family}.{framework}":
            raise


def find_part(framework: str, what: str, kind: str) -> Any | None:
    """``framework``'s ``what`` for ``kind``, importing the family module first; or None.

    Example:
        >>> find_part("torch", "no_such_part", "no_such_kind") is None
        True
    """
    slot = (framework, what, kind)
    if slot not in _PARTS:
        _load_framework(framework, kind)
    return _PARTS.get(slot)


def part(framework: str, what: str, kind: str) -> Any:
    """Like ``find_part``, but a missing part raises ``RegistryError`` naming it.

    Example:
        >>> part("torch", "no_such_part", "no_such_kind")
        Traceback (most recent call last):
        ...
        compare.core.registry.RegistryError: kind 'no_such_kind' registers no torch no_such_part
    """
    found = find_part(framework, what, kind)
    if found is None:
        raise RegistryError(f"kind {kind!r} registers no {framework} {what}")
    return found


def parts(framework: str, what: str, families: Iterable[str] | None = None) -> dict[Any, Any]:
    """Every key -> object registered as ``framework``'s ``what``, after importing the
    ``framework`` module of every family (importers use it to map classes).

    Example:
        >>> parts("doctest", "nothing", families=())
        {}
    """
    for kind in families if families is not None else kinds():
        _load_framework(framework, kind)
    return {key: obj for (fw, w, key), obj in _PARTS.items() if fw == framework and w == what}


def differences_part(what: str, kind: str) -> Any | None:
    """``kind``'s framework-free diagnostic ``what`` (its naive checks, differences,
    explanations ...), registered as ``register_part(ANY, what, kind)`` by its family's
    ``differences`` module; or None. The ``differences`` module of every built-in
    family is imported first (once), and that of a kind registered elsewhere.

    Example:
        >>> @register_part(ANY, "doctest_hint", "doctest_kind")
        ... def hint() -> str:
        ...     return "look here"
        >>> differences_part("doctest_hint", "doctest_kind")()
        'look here'
        >>> differences_part("doctest_hint", "no_such_kind") is None
        True
    """
    slot = (ANY, what, kind)
    if slot not in _PARTS:
        load_modules(DIFFERENCES)
    return _PARTS.get(slot)
