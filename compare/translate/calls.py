"""Constructor calls read back from real layer objects, verified by rebuilding them.

A ``Call`` is a class and the arguments that rebuild one layer object: read from the
object itself (``get_config()`` for a Keras layer, the module's attributes for a torch
module, each named after the constructor's parameter), with every argument left out that
equals what the class would choose unset. ``read_call`` rebuilds the layer from the
``Call`` and refuses to return one that does not rebuild the same layer, so the code a
``Call`` prints is the code of the object it was read from.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compare.errors import SpecError

__all__ = ["Call", "Reader", "canonical", "read_call", "signature_text", "value_text"]

_MISSING: Any = object()


@dataclass(frozen=True)
class Call:
    """A class and the literal-ish arguments that rebuild one layer.

    ``path`` is how the printed code names the class (``nn.Conv2d``,
    ``keras.layers.Conv2D``, or a helper class imported by ``imports``).

    Example:
        >>> Call(dict, "dict", (), {"a": 1}).text
        'dict(a=1)'
    """

    cls: type
    path: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    imports: tuple[str, ...] = ()
    comment: str | None = None

    @property
    def text(self) -> str:
        """The call as Python source."""
        parts = [value_text(a) for a in self.args]
        parts += [f"{k}={value_text(v)}" for k, v in self.kwargs.items()]
        return f"{self.path}({', '.join(parts)})"

    def make(self) -> Any:
        """A new object of the class, from these arguments (nothing is evaluated)."""
        return self.cls(*self.args, **self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the class path, the call, and its arguments as text."""
        return {
            "class": self.path,
            "call": self.text,
            "args": [value_text(a) for a in self.args],
            "kwargs": {k: value_text(v) for k, v in self.kwargs.items()},
        }


def value_text(value: Any) -> str:
    """Python source for an argument value: literals, tuples, lists and dicts of them,
    functions by their public module path, and ``functools.partial`` of those.

    Example:
        >>> value_text((3, 3)), value_text([1, "a"]), value_text(functools.partial(max, 1))
        ('(3, 3)', "[1, 'a']", 'functools.partial(max, 1)')
    """
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(value_text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{value_text(k)}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, functools.partial):
        parts = [value_text(value.func), *(value_text(a) for a in value.args)]
        parts += [f"{k}={value_text(v)}" for k, v in value.keywords.items()]
        return f"functools.partial({', '.join(parts)})"
    if callable(value):
        module = getattr(value, "__module__", "") or ""
        name = getattr(value, "__name__", "")
        if module == "builtins":
            return name
        public = _public_path(value)
        if public:
            return public
    raise SpecError(f"cannot write the value {value!r} as Python source")


#: Public homes searched for a function found in a built layer.
PUBLIC_MODULES = ("keras.activations", "torch.nn.functional", "torch")


def _public_path(fn: Any) -> str | None:
    import importlib
    import sys

    name = getattr(fn, "__name__", None)
    for module_name in PUBLIC_MODULES:
        module = sys.modules.get(module_name) or (
            importlib.import_module(module_name)
            if module_name.split(".")[0] in sys.modules
            else None
        )
        if module is not None and name and getattr(module, name, None) is fn:
            return f"{module_name}.{name}"
    return None


def canonical(value: Any) -> Any:
    """A size written once where it is the same along every axis: ``(2, 2)`` -> ``2``,
    ``((3, 3), (3, 3))`` -> ``3`` (how both frameworks accept an equal size).

    Example:
        >>> canonical((2, 2)), canonical(((1, 2), (1, 2))), canonical([3, 3])
        (2, ((1, 2), (1, 2)), [3, 3])
    """
    short = _shorter(value)
    return value if short is _MISSING else short


def signature_text(cls: type, sig: inspect.Signature | None = None) -> str:
    """The constructor's signature (``sig``, else the class's own) without annotations:
    what a call may pass.

    Example:
        >>> class Dense:
        ...     def __init__(self, units: int, use_bias: bool = True, **kwargs: object) -> None: ...
        >>> signature_text(Dense)
        'Dense(units, use_bias=True, **kwargs)'
    """
    try:
        sig = sig or inspect.signature(cls)
    except (TypeError, ValueError):
        return f"{cls.__name__}(...)"
    parts = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        elif p.default is p.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={p.default!r}")
    return f"{cls.__name__}({', '.join(parts)})"


@dataclass
class Reader:
    """How one framework reads a built object's arguments back and rebuilds it.

    ``values(obj, names)`` gives each named constructor argument's value as the object
    holds it (``_MISSING`` where it holds none); ``make(cls, args, kwargs)`` builds a
    throwaway object (torch: on the meta device); ``key(obj)`` is what must not change
    when the object is rebuilt; ``skip`` are parameters never printed.

    Example:
        >>> reader = Reader(lambda obj, names: {n: getattr(obj, n) for n in names})
        >>> reader.skip
        ()
    """

    values: Callable[[Any, list[str]], dict[str, Any]]
    make: Callable[[type, tuple[Any, ...], dict[str, Any]], Any] = lambda cls, a, k: cls(*a, **k)
    key: Callable[[Any], Any] = repr
    skip: tuple[str, ...] = ()
    extra: Callable[[Any], dict[str, Any]] = field(default=lambda obj: {})
    signature: Callable[[type], inspect.Signature] = inspect.signature


def _parameters(cls: type, reader: Reader) -> list[inspect.Parameter]:
    sig = reader.signature(cls)
    return [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
        and p.name not in reader.skip
        and not p.name.startswith("_")
    ]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _shorter(value: Any) -> Any:
    """``(3, 3)`` or ``((3, 3), (3, 3))`` -> ``3``: the short spelling both frameworks
    accept for equal sizes (kept only where the class rebuilds the same from it)."""
    leaves = _leaves(value) if isinstance(value, tuple) else []
    if leaves and all(type(v) is int and v == leaves[0] for v in leaves):
        return leaves[0]
    return _MISSING


def _brief(value: Any, limit: int = 60) -> str:
    """A short form of an argument value for a message: its repr cut at ``limit``."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_call(obj: Any, path: str, reader: Reader, imports: tuple[str, ...] = ()) -> Call:
    """The ``Call`` that rebuilds ``obj``: arguments read back from it, defaults left out,
    equal sizes shortened, verified by rebuilding.

    Example:
        >>> class Pool:
        ...     def __init__(self, size, stride=None):
        ...         self.size, self.stride = size, stride or size
        ...     def __repr__(self):
        ...         return f"Pool({self.size}, {self.stride})"
        >>> reader = Reader(lambda obj, names: {n: getattr(obj, n) for n in names})
        >>> read_call(Pool(2, 3), "Pool", reader).text, read_call(Pool(2), "Pool", reader).text
        ('Pool(2, stride=3)', 'Pool(2)')
    """
    cls = type(obj)
    params = _parameters(cls, reader)
    names = [p.name for p in params]
    values = reader.values(obj, names)
    extra = reader.extra(obj)
    required = [p for p in params if p.default is p.empty]
    missing = [p.name for p in required if values.get(p.name, _MISSING) is _MISSING]
    if missing:
        raise SpecError(f"cannot read {', '.join(missing)} back from {cls.__name__}")
    args = [values[p.name] for p in required]
    kwargs = {
        p.name: values[p.name]
        for p in params
        if p.default is not p.empty and values.get(p.name, _MISSING) is not _MISSING
    }
    kwargs.update(extra)
    want = reader.key(obj)

    def rebuilds(a: list[Any], k: dict[str, Any]) -> bool:
        try:
            return bool(reader.key(reader.make(cls, tuple(a), k)) == want)
        except Exception:  # an argument the class refuses in that spelling
            return False

    if not rebuilds(args, kwargs):
        shown = ", ".join(
            [_brief(a) for a in args] + [f"{k}={_brief(v)}" for k, v in kwargs.items()]
        )
        raise SpecError(
            f"cannot write {cls.__name__} as a call: {cls.__name__}({shown}) from the "
            "arguments read back builds a different layer"
        )
    # leave out every argument the class chooses the same way unset (one at a time:
    # a default may follow another argument, as a pool's strides follow its size)
    for name in list(kwargs):
        fewer = {k: v for k, v in kwargs.items() if k != name}
        if rebuilds(args, fewer):
            kwargs = fewer
    for index, value in enumerate(args):
        short = _shorter(value)
        if short is not _MISSING and rebuilds([*args[:index], short, *args[index + 1 :]], kwargs):
            args[index] = short
    for name, value in list(kwargs.items()):
        short = _shorter(value)
        if short is not _MISSING and rebuilds(args, {**kwargs, name: short}):
            kwargs[name] = short
    comment = None
    if not path.startswith(("nn.", "keras.")):
        doc = (inspect.getdoc(cls) or "").split("\n\n")[0]
        comment = f"{cls.__name__}: {' '.join(doc.split())}" if doc else None
    return Call(cls, path, tuple(args), kwargs, imports, comment)
