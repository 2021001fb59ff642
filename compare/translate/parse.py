"""Parse a layer constructor call and an input shape, bounded, never evaluating anything.

Framework-free: the call is read with ``ast`` and only literal arguments are kept
(numbers, strings, True/False/None, tuples and lists of them, a minus sign on a number).
Every size is bounded before it can cost anything: the call's length before ``ast.parse``,
the tree's depth and node count before it is walked deeply, integers to int64, and the
input's elements (``MAX_INPUT_ELEMENTS``) before any tensor exists.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any

from compare.errors import SpecError

__all__ = [
    "FRAMEWORK_NAMES",
    "KERAS_PREFIXES",
    "MAX_AST_DEPTH",
    "MAX_AST_NODES",
    "MAX_CALL_CHARS",
    "MAX_INPUT_CHARS",
    "MAX_INPUT_ELEMENTS",
    "MAX_INT",
    "TORCH_PREFIXES",
    "InputShape",
    "ParsedCall",
    "parse_call",
    "parse_input",
]

FRAMEWORK_NAMES = {"torch": "PyTorch", "keras": "Keras"}
TORCH_PREFIXES = ("nn", "torch.nn")
KERAS_PREFIXES = ("keras.layers", "layers", "tf.keras.layers", "L")

#: A layer call longer than this is refused before ``ast.parse`` sees it.
MAX_CALL_CHARS = 1000
#: The parsed call may nest at most this deep and hold at most this many nodes.
MAX_AST_DEPTH = 16
MAX_AST_NODES = 400
#: Integer arguments and input sizes must fit in int64 (what both frameworks hold).
MAX_INT = 2**63 - 1
#: One input sample (no batch axis) may hold at most this many elements (64 MiB float32).
MAX_INPUT_ELEMENTS = 2**24
MAX_INPUT_CHARS = 100


@dataclass(frozen=True)
class ParsedCall:
    """A constructor call, parsed without evaluating anything: the dotted class path split
    into the framework it names and the class name, and the literal arguments.

    Example:
        >>> call = parse_call("nn.Conv2d(3, 64, 7, stride=2)")
        >>> call.framework, call.class_name, call.args, call.kwargs
        ('torch', 'Conv2d', (3, 64, 7), {'stride': 2})
    """

    text: str
    dotted: str
    framework: str
    class_name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class InputShape:
    """An input without its batch axis, in the call's own layout (``dims``), and whether
    it holds integer token ids.

    Example:
        >>> parse_input("int:12", "torch")
        InputShape(dims=(12,), ids=True)
    """

    dims: tuple[int, ...]
    ids: bool = False

    @property
    def text(self) -> str:
        """The shape as ``compare.from_torch`` takes it (``"3x224x224"``, ``"int:12"``)."""
        joined = "x".join(map(str, self.dims))
        return f"int:{joined}" if self.ids else joined


def _bounded_tree(source: str) -> ast.expr:
    """``ast.parse`` of a short text, its depth and size checked without recursion."""
    if len(source) > MAX_CALL_CHARS:
        raise SpecError(
            f"the layer call is {len(source):,} characters long; at most {MAX_CALL_CHARS:,} "
            "are read (compare.translate.MAX_CALL_CHARS)"
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"{source!r} is not valid Python: {exc.msg}") from exc
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        raise SpecError(
            f"{source[:60]!r}... cannot be parsed ({type(exc).__name__}): write one call "
            "with literal arguments"
        ) from exc
    todo: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    while todo:
        node, depth = todo.pop()
        count += 1
        if depth > MAX_AST_DEPTH or count > MAX_AST_NODES:
            limit = (
                f"nests deeper than {MAX_AST_DEPTH} (compare.translate.MAX_AST_DEPTH)"
                if depth > MAX_AST_DEPTH
                else f"has more than {MAX_AST_NODES} parts (compare.translate.MAX_AST_NODES)"
            )
            raise SpecError(f"the layer call {limit}; write one call with literal arguments")
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree.body


#: the arithmetic accepted between two numbers (``Rescaling(1 / 255)``); no power
_ARITHMETIC: dict[type, Any] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _arithmetic(node: ast.BinOp, where: str) -> int | float:
    """``a + b``, ``a - b``, ``a * b`` or ``a / b`` of two numbers (or of such sums),
    bounded like a literal number."""
    a, b = _literal(node.left, where), _literal(node.right, where)
    for value in (a, b):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(
                f"{where}={ast.unparse(node)[:60]}: arithmetic is accepted only between "
                f"numbers, not on {value!r}"
            )
    if isinstance(node.op, ast.Div) and b == 0:
        raise SpecError(f"{where}={ast.unparse(node)[:60]} divides by zero")
    value = _ARITHMETIC[type(node.op)](a, b)
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise SpecError(f"{where}={ast.unparse(node)[:60]} is beyond int64 (at most {MAX_INT:,})")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"{where}={ast.unparse(node)[:60]} is not a finite number")
    return value


def _literal(node: ast.expr, where: str) -> Any:
    """The value of a literal node: nothing else is accepted (and nothing evaluated)."""
    negative = False
    value_node = node
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        negative = isinstance(node.op, ast.USub)
        value_node = node.operand
        if not (
            isinstance(value_node, ast.Constant)
            and isinstance(value_node.value, int | float)
            and not isinstance(value_node.value, bool)
        ):
            raise SpecError(f"{where}: a sign is accepted only on a number")
    if isinstance(value_node, ast.Constant):
        value = value_node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int):
            if value > MAX_INT:
                raise SpecError(
                    f"{where}: the integer {str(value)[:20]}... ({value.bit_length()} bits) "
                    f"is beyond int64 (at most {MAX_INT:,})"
                )
            return -value if negative else value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise SpecError(f"{where}: {value} is not a finite number")
            return -value if negative else value
    if isinstance(node, ast.Tuple | ast.List):
        items = [_literal(item, where) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _arithmetic(node, where)
    shown = ast.unparse(node)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise SpecError(
        f"{where}={shown} is not a literal: arguments must be numbers, strings, "
        "True/False/None, or tuples/lists of them (nothing is evaluated)"
    )


def _dotted(node: ast.expr, text: str) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise SpecError(
            f"{text[:60]!r}: the called object must be a class name like nn.Conv2d or "
            f"keras.layers.Conv2D, got {ast.unparse(node)[:60]!r}"
        )
    return [node.id, *reversed(parts)]


def _framework(path: list[str], text: str) -> str:
    prefix, name = ".".join(path[:-1]), path[-1]
    if prefix in TORCH_PREFIXES:
        return "torch"
    if prefix in KERAS_PREFIXES:
        return "keras"
    known = ", ".join(f"{p}.X" for p in (*TORCH_PREFIXES, *KERAS_PREFIXES))
    if not prefix:
        raise SpecError(
            f"{text[:60]!r}: write the class with its module ({name} alone does not say "
            f"which framework): one of {known}"
        )
    raise SpecError(f"{text[:60]!r}: unknown module {prefix!r}; write the class as one of {known}")


def parse_call(text: str) -> ParsedCall:
    """Parse ``text`` as one constructor call with literal arguments (never evaluated).

    Raises ``SpecError`` for anything else: other expressions, a module that is neither
    ``torch.nn`` nor ``keras.layers``, non-literal arguments, ``*args`` / ``**kwargs``,
    integers beyond int64, a call longer than ``MAX_CALL_CHARS`` or nested deeper than
    ``MAX_AST_DEPTH``.

    Example:
        >>> call = parse_call("keras.layers.Conv2D(64, 7, strides=2, padding='same')")
        >>> call.framework, call.class_name, call.args, call.kwargs
        ('keras', 'Conv2D', (64, 7), {'strides': 2, 'padding': 'same'})
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError("the layer call is empty; write e.g. nn.Conv2d(3, 64, 3)")
    source = text.strip()
    node = _bounded_tree(source)
    if not isinstance(node, ast.Call):
        raise SpecError(
            f"{source[:60]!r} is not a constructor call; write e.g. nn.Conv2d(3, 64, 3) or "
            "keras.layers.Conv2D(64, 3)"
        )
    path = _dotted(node.func, source)
    framework = _framework(path, source)
    dotted = ".".join(path)
    args = []
    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            raise SpecError(f"{dotted}: *{ast.unparse(arg.value)[:40]} is not allowed; spell out")
        args.append(_literal(arg, f"{dotted}: argument {index + 1}"))
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise SpecError(f"{dotted}: **{ast.unparse(kw.value)[:40]} is not allowed; spell out")
        kwargs[kw.arg] = _literal(kw.value, f"{dotted}: {kw.arg}")
    return ParsedCall(source, dotted, framework, path[-1], tuple(args), kwargs)


_DIM = re.compile(r"^[1-9][0-9]{0,18}$")


def parse_input(text: str | None, framework: str) -> InputShape:
    """Parse an input shape without batch axis: 1 to 4 positive integers joined by ``x``,
    or ``int:STEPS`` for integer token ids. A PyTorch call's shape is channels first, as
    ``compare.from_torch`` takes it (``3x224x224``; a sequence of 10 steps of 16 features
    is ``16x10``); a Keras call's is its ``keras.Input`` shape (``224x224x3``, ``10x16``).
    At most ``MAX_INPUT_ELEMENTS`` elements.

    Example:
        >>> parse_input("3x224x224", "torch")
        InputShape(dims=(3, 224, 224), ids=False)
        >>> parse_input("3x100000x100000", "torch")
        Traceback (most recent call last):
        ...
        compare.errors.SpecError: --input '3x100000x100000' has 30,000,000,000 elements; ...
    """
    if text is None:
        raise SpecError(
            "translate needs --input, the input shape without the batch axis: "
            + ("CxHxW (channels first), e.g. 3x224x224" if framework == "torch" else "")
            + ("HxWxC (channels last), e.g. 224x224x3" if framework == "keras" else "")
            + "; one number for a feature vector, int:STEPS for token ids"
        )
    raw = str(text)
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if len(raw) > MAX_INPUT_CHARS:
        raise SpecError(f"--input {shown!r} is longer than {MAX_INPUT_CHARS} characters")
    body = raw.strip().lower()
    ids = body.startswith("int:")
    if ids:
        body = body[4:].strip()
    parts = [p.strip() for p in body.split("x")]
    if (
        not 1 <= len(parts) <= 4
        or not all(_DIM.match(p) for p in parts)
        or (ids and len(parts) > 1)
    ):
        layout = "CxHxW (channels first)" if framework == "torch" else "HxWxC (channels last)"
        example = "3x224x224" if framework == "torch" else "224x224x3"
        raise SpecError(
            f"--input {shown!r} must be 1 to 4 positive integers joined by 'x' (for a "
            f"{FRAMEWORK_NAMES[framework]} call {layout}, e.g. {example}), or int:STEPS "
            "for token ids"
        )
    dims = tuple(int(p) for p in parts)
    if any(d > MAX_INT for d in dims):
        raise SpecError(f"--input {shown!r}: a size is beyond int64")
    elements = math.prod(dims)
    if elements > MAX_INPUT_ELEMENTS:
        raise SpecError(
            f"--input {shown!r} has {elements:,} elements; translate allows at most "
            f"{MAX_INPUT_ELEMENTS:,} per sample (compare.translate.MAX_INPUT_ELEMENTS)"
        )
    return InputShape(dims, ids)
