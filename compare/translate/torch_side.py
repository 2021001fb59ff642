"""PyTorch's side of a translation: resolve, bind, bound, build, read back, rebuild.

Imported only when a translation touches PyTorch (it imports torch).
"""

from __future__ import annotations

import difflib
import inspect
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from compare.errors import SpecError
from compare.translate.calls import Call, Reader, canonical, read_call, signature_text
from compare.translate.parse import InputShape, ParsedCall

__all__ = ["TorchSide"]

name = "torch"
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _signature(cls: type) -> inspect.Signature:
    """The constructor's parameters; ``nn.LSTM``/``GRU``/``RNN`` take ``*args, **kwargs``
    and pass them to ``nn.RNNBase`` after their own ``mode`` (``nn.RNN`` also reads
    ``nonlinearity``; only ``nn.LSTM`` takes ``proj_size``)."""
    sig = inspect.signature(cls)
    if issubclass(cls, nn.RNNBase) and cls is not nn.RNNBase:
        base = inspect.signature(nn.RNNBase)
        dropped = ("mode",) if issubclass(cls, nn.LSTM) else ("mode", "proj_size")
        params = [p for p in base.parameters.values() if p.name not in dropped]
        if issubclass(cls, nn.RNN):
            keyword = inspect.Parameter.KEYWORD_ONLY
            params.append(inspect.Parameter("nonlinearity", keyword, default="tanh"))
        return base.replace(parameters=params)
    return sig


_MISSING_ATTR: Any = object()


def _values(module: Any, names: list[str]) -> dict[str, Any]:
    """Each constructor argument as the module holds it (the attribute of that name;
    a ``bias`` parameter tensor reads as whether there is one)."""
    out: dict[str, Any] = {}
    for n in names:
        if n in ("device", "dtype"):
            continue
        value = getattr(module, n, None) if hasattr(module, n) else _MISSING_ATTR
        if n == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        if isinstance(value, torch.Size):
            value = tuple(value)
        if value is not _MISSING_ATTR and not isinstance(value, torch.Tensor):
            out[n] = value
    return out


def _meta(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    with torch.device("meta"):
        return cls(*args, **kwargs)


def _key(module: Any) -> Any:
    """What a rebuilt module must share with the original: every constructor argument
    (equal sizes in their short form) and the shape of every weight and buffer."""
    names = [p.name for p in _signature(type(module)).parameters.values()]
    values = {k: canonical(v) for k, v in _values(module, names).items()}
    return values, [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


READER = Reader(_values, make=_meta, key=_key, skip=("device", "dtype"), signature=_signature)


def _path(cls: type) -> tuple[str, tuple[str, ...]]:
    """How printed code names a class, and the import that brings it in."""
    if getattr(nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}", ()
    return cls.__name__, (f"from {cls.__module__} import {cls.__qualname__}",)


class _Output(nn.Module):
    """The first element of what the layer returns (an RNN's output sequence)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> Any:
        return self.layer(x)[0]


class TorchSide:
    """Everything a translation does in PyTorch.

    Example:
        >>> TorchSide().resolve("Conv2d", "nn.Conv2d").__name__
        'Conv2d'
    """

    name = "torch"
    title = "PyTorch"
    var = "torch_layer"

    def resolve(self, class_name: str, dotted: str) -> type:
        """The real ``torch.nn`` layer class named ``class_name``."""
        cls = getattr(nn, class_name, None) if not class_name.startswith("_") else None
        if not (
            isinstance(cls, type)
            and issubclass(cls, nn.Module)
            and cls.__module__.startswith("torch.nn.modules.")
        ):
            known = [n for n in dir(nn) if isinstance(getattr(nn, n), type)]
            close = difflib.get_close_matches(class_name, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join('nn.' + c for c in close)}?" if close else ""
            raise SpecError(f"{dotted} is not a torch.nn layer class{hint}")
        return cls

    def signature(self, cls: type) -> str:
        """The constructor's signature, as an error message shows it."""
        return signature_text(cls, _signature(cls))

    def construct(self, cls: type, call: ParsedCall, shape: InputShape, limit: int) -> Any:
        """The layer built from the call, after its cost was bounded on the meta device."""
        try:
            meta = _meta(cls, call.args, call.kwargs)
        except Exception as exc:
            raise _refused(call, exc, self.signature(cls)) from exc
        count = sum(math.prod(t.shape) for t in (*meta.parameters(), *meta.buffers()))
        if count > limit:
            raise SpecError(
                f"{call.dotted} holds {count:,} weights; translate builds at most {limit:,} "
                "(compare.translate.MAX_WEIGHTS)"
            )
        torch.manual_seed(0)
        try:
            return cls(*call.args, **call.kwargs)
        except Exception as exc:
            raise _refused(call, exc, self.signature(cls)) from exc

    def layouts(self, shape: InputShape) -> list[tuple[int, ...]]:
        """Input shapes (batch 1) the layer may take: channels first, and for a sequence
        (N, steps, features), what a ``batch_first`` RNN takes."""
        dims = shape.dims
        out = [(1, *dims)]
        if len(dims) == 2 and not shape.ids:
            out.append((1, dims[1], dims[0]))
        return out

    def probe(
        self, layer: Any, call: ParsedCall, shape: InputShape, limit: int
    ) -> tuple[tuple[int, ...], bool]:
        """(the input shape the layer takes, whether it returns a tuple), found on the
        meta device; the output's elements are bounded by ``limit``."""
        meta = _meta(type(layer), call.args, call.kwargs).eval()
        errors = []
        for dims in self.layouts(shape):
            dtype = torch.long if shape.ids else torch.float32
            try:
                with torch.no_grad():
                    y = meta(torch.empty(dims, dtype=dtype, device="meta"))
            except Exception as exc:
                errors.append(" ".join(str(exc).split())[:300])
                continue
            first = y[0] if isinstance(y, tuple | list) else y
            if isinstance(first, torch.Tensor) and first.numel() > limit:
                raise SpecError(
                    f"{call.dotted} on --input {shape.text} gives {first.numel():,} output "
                    f"elements; translate allows at most {limit:,} "
                    "(compare.translate.MAX_INPUT_ELEMENTS)"
                )
            return dims[1:], isinstance(y, tuple | list)
        wants_ids = any(word in errors[0] for word in ("Long", "Int", "indices"))
        hint = " (token ids: --input int:STEPS)" if wants_ids and not shape.ids else ""
        raise SpecError(
            f"{call.dotted} refuses an input of shape (N, {', '.join(map(str, shape.dims))})"
            f"{hint}: {errors[0]}"
        )

    def bind_signature(self, cls: type) -> inspect.Signature:
        """The signature the call's arguments are bound to."""
        return _signature(cls)

    def wrap(self, layer: Any, returns_tuple: bool, shape: InputShape) -> Any:
        """The one-layer model the importer reads."""
        return nn.Sequential(_Output(layer) if returns_tuple else layer)

    def randomise(self, layer: Any, rng: np.random.Generator) -> None:
        """Every floating-point weight drawn from U(0.5, 1.5): a wrong port shows."""
        with torch.no_grad():
            for tensor in layer.state_dict().values():
                if tensor.is_floating_point():
                    values = rng.uniform(0.5, 1.5, tuple(tensor.shape))
                    tensor.copy_(torch.from_numpy(values))

    def import_(self, model: Any, shape: InputShape) -> Any:
        from compare.importers import from_torch

        return from_torch(model, shape.text, name="translate")

    def weights(self, layer: Any) -> dict[str, np.ndarray]:
        """The layer's own state, by the names the port statements read."""
        return {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}

    def read_weights_for(self, layer: Any) -> str:
        """The statement that reads the source layer's weights into ``w``."""
        return "w = {k: v.detach().numpy() for k, v in torch_layer.state_dict().items()}"

    def run(self, model: Any, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            y = model.eval()(torch.from_numpy(x))
        return np.asarray(y[0] if isinstance(y, tuple | list) else y)

    # -- the target side: read what the adapter built ------------------------------
    def leaves(self, model: Any) -> list[Any]:
        """The built model's modules in order (plain ``nn.Sequential`` flattened)."""
        out: list[Any] = []
        for module in model.children() if type(model) is nn.Sequential else [model]:
            out += self.leaves(module) if type(module) is nn.Sequential else [module]
        return out

    def call(self, leaf: Any) -> Call:
        path, imports = _path(type(leaf))
        return read_call(leaf, path, READER, imports)

    def state(self, leaf: Any) -> dict[str, np.ndarray]:
        """The leaf's floating-point state by name (what a port writes)."""
        return {
            k: v.detach().numpy().copy()
            for k, v in leaf.state_dict().items()
            if v.is_floating_point()
        }

    def fill(self, leaf: Any, value: float) -> None:
        with torch.no_grad():
            for v in leaf.state_dict().values():
                if v.is_floating_point():
                    v.fill_(value)

    def dtype(self, leaves: list[Any]) -> str:
        for leaf in leaves:
            for v in leaf.state_dict().values():
                if v.is_floating_point():
                    return str(v.dtype).removeprefix("torch.")
        return "float32"

    def input_dtype(self, pair_model: Any) -> str | None:
        return None

    def assemble(self, calls: list[Call], dtype: str, dims: tuple[int, ...], ids: bool) -> Any:
        """The target model rebuilt from the printed calls."""
        modules = [c.make() for c in calls]
        model = modules[0] if len(modules) == 1 else nn.Sequential(*modules)
        return model.to(_DTYPES[dtype]).eval()

    def code(
        self, calls: list[Call], dtype: str, dims: tuple[int, ...], input_dtype: str | None
    ) -> str:
        imports = ["import torch" if dtype != "float32" else "", "from torch import nn"]
        imports += [i for c in calls for i in c.imports]
        if any("functools.partial" in c.text for c in calls):
            imports.insert(0, "import functools")
        head = "\n".join(dict.fromkeys(i for i in imports if i))
        cast = f".to(torch.{dtype})" if dtype != "float32" else ""
        comments = "".join(f"# {c}\n" for c in dict.fromkeys(c.comment for c in calls) if c)
        if len(calls) == 1:
            return f"{head}\n\n{comments}torch_layer = {calls[0].text}{cast}"
        body = "".join(f"    {c.text},\n" for c in calls)
        return f"{head}\n\n{comments}torch_layer = nn.Sequential(\n{body}){cast}"

    def keys(self, calls: list[Call], leaf: int, names: list[str]) -> list[str]:
        """The printed model's state_dict keys of one leaf's state."""
        return names if len(calls) == 1 else [f"{leaf}.{n}" for n in names]

    def write_code(
        self,
        assigns: list[tuple[int, str, str]],
        unwritten: list[str],
        calls: list[Call],
        dims: tuple[int, ...],
    ) -> str:
        """``load_state_dict`` of the ported arrays (leaf, name, expression)."""
        lines = ["ported = {"]
        for leaf, key, expr in assigns:
            full = self.keys(calls, leaf, [key])[0]
            lines.append(f'    "{full}": {expr},')
        lines.append("}")
        strict = ""
        if unwritten:
            lines.append(f"# left as built (not weights): {', '.join(unwritten)}")
            strict = ", strict=False"
        lines.append(
            "torch_layer.load_state_dict(\n"
            "    {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in ported.items()}"
            f"{strict}\n)"
        )
        return "\n".join(lines)

    def write(
        self, model: Any, calls: list[Call], assigns: dict[tuple[int, str], np.ndarray]
    ) -> None:
        state = {
            self.keys(calls, leaf, [key])[0]: torch.from_numpy(np.ascontiguousarray(a))
            for (leaf, key), a in assigns.items()
        }
        model.load_state_dict(state, strict=False)

    def unwritten(
        self, calls: list[Call], leaves: list[Any], written: set[tuple[int, str]]
    ) -> list[str]:
        out = []
        for index, leaf in enumerate(leaves):
            for key in leaf.state_dict():
                if (index, key) not in written:
                    out.append(self.keys(calls, index, [key])[0])
        return out


def _refused(call: ParsedCall, exc: Exception, signature: str) -> SpecError:
    text = " ".join(str(exc).split())[:400]
    return SpecError(f"PyTorch refuses {call.text[:200]}: {text}; signature: {signature}")
