"""Translate one PyTorch or Keras layer constructor call into the other framework.

``translate("nn.Conv2d(3, 64, 7, stride=2, padding=3)", "3x224x224")`` parses the call
safely (``ast.parse`` plus ``ast.literal_eval`` on each argument: nothing is ever
evaluated), binds its arguments to the class signature, maps them to the abstract
spec, builds that one-layer model for real in both frameworks (``compare_model``), and
returns:

* the other framework's equivalent code, faithful to the computation (Keras has no
  integer padding; PyTorch has no asymmetric padding and no 'same' with strides, ...);
* the statements that port the weights, derived from ``compare.layouts``;
* the named differences and the parity measured after porting.

The input shape is written without the batch axis in the *source* framework's layout:
``CxHxW`` (channels first) for a PyTorch call, ``HxWxC`` (channels last) for a Keras
call, a single number for a feature vector.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compare import layouts
from compare.core import registry
from compare.errors import SpecError
from compare.formulas import LayerFormula, infer, same_pads
from compare.kinds.conv.spec import Conv, ConvTranspose, DepthwiseConv, SeparableConv
from compare.kinds.dense.spec import Dense
from compare.kinds.flatten.spec import Flatten
from compare.records import ModelResult
from compare.spec import Input, Layer, Model

__all__ = [
    "KERAS_CLASSES",
    "TORCH_CLASSES",
    "ParsedCall",
    "Translation",
    "parse_call",
    "parse_input",
    "render_text",
    "run_cli",
    "signature",
    "to_model",
    "translate",
]

FRAMEWORK_NAMES = {"torch": "PyTorch", "keras": "Keras"}
TORCH_PREFIXES = ("nn", "torch.nn")
KERAS_PREFIXES = ("keras.layers", "layers", "tf.keras.layers")

#: class name -> (spec kind, rank or None for rank-free families)
TORCH_CLASSES: dict[str, tuple[str, int | None]] = {
    **{f"Conv{r}d": ("conv", r) for r in (1, 2, 3)},
    **{f"ConvTranspose{r}d": ("conv_transpose", r) for r in (1, 2, 3)},
    "Linear": ("dense", None),
    "Flatten": ("flatten", None),
}
KERAS_CLASSES: dict[str, tuple[str, int | None]] = {
    **{f"Conv{r}D": ("conv", r) for r in (1, 2, 3)},
    **{f"Conv{r}DTranspose": ("conv_transpose", r) for r in (1, 2, 3)},
    **{f"DepthwiseConv{r}D": ("depthwise_conv", r) for r in (1, 2)},
    **{f"SeparableConv{r}D": ("separable_conv", r) for r in (1, 2)},
    "Dense": ("dense", None),
    "Flatten": ("flatten", None),
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _keras_extras(*weights: str) -> tuple[str, ...]:
    inits = tuple(f"{w}_initializer" for w in weights)
    regs = tuple(f"{w}_regularizer" for w in weights)
    cons = tuple(f"{w}_constraint" for w in weights)
    return (*inits, *regs, "activity_regularizer", *cons)


#: The constructors' parameters in signature order and how many are required;
#: ``tests/test_translate.py`` holds these against ``inspect.signature`` of the real classes.
TORCH_SIGNATURES: dict[str, tuple[tuple[str, ...], int]] = {
    "conv": (
        _names(
            "in_channels out_channels kernel_size stride padding dilation groups bias "
            "padding_mode device dtype"
        ),
        3,
    ),
    "conv_transpose": (
        _names(
            "in_channels out_channels kernel_size stride padding output_padding groups bias "
            "dilation padding_mode device dtype"
        ),
        3,
    ),
    "dense": (_names("in_features out_features bias device dtype"), 2),
    "flatten": (_names("start_dim end_dim"), 0),
}

_CONV_ARGS = "strides padding data_format dilation_rate"
KERAS_SIGNATURES: dict[str, tuple[tuple[str, ...], int]] = {
    "conv": (
        _names(f"filters kernel_size {_CONV_ARGS} groups activation use_bias")
        + _keras_extras("kernel", "bias"),
        2,
    ),
    "conv_transpose": (
        _names(
            "filters kernel_size strides padding output_padding data_format dilation_rate "
            "activation use_bias"
        )
        + _keras_extras("kernel", "bias"),
        2,
    ),
    "depthwise_conv": (
        _names(
            "kernel_size strides padding depth_multiplier data_format dilation_rate "
            "activation use_bias"
        )
        + _keras_extras("depthwise", "bias"),
        1,
    ),
    "separable_conv": (
        _names(f"filters kernel_size {_CONV_ARGS} depth_multiplier activation use_bias")
        + _keras_extras("depthwise", "pointwise", "bias"),
        2,
    ),
    "dense": (
        _names("units activation use_bias")
        + _keras_extras("kernel", "bias")
        + _names("lora_rank lora_alpha quantization_config"),
        1,
    ),
    "flatten": (_names("data_format"), 0),
}
#: Classes whose parameter order differs from their family's.
KERAS_CLASS_SIGNATURES: dict[str, tuple[tuple[str, ...], int]] = {
    "Conv3DTranspose": (
        _names(
            "filters kernel_size strides padding data_format output_padding dilation_rate "
            "activation use_bias"
        )
        + _keras_extras("kernel", "bias"),
        2,
    ),
}


def signature(framework: str, class_name: str) -> tuple[tuple[str, ...], int]:
    """(parameter names in order, number required) of a known class's constructor.

    Example:
        >>> signature("torch", "Linear")
        (('in_features', 'out_features', 'bias', 'device', 'dtype'), 2)
    """
    if framework == "torch":
        return TORCH_SIGNATURES[TORCH_CLASSES[class_name][0]]
    if class_name in KERAS_CLASS_SIGNATURES:
        return KERAS_CLASS_SIGNATURES[class_name]
    return KERAS_SIGNATURES[KERAS_CLASSES[class_name][0]]


#: Keyword arguments every Keras layer takes (``**kwargs`` of ``Layer``).
KERAS_LAYER_KWARGS = ("name", "dtype", "trainable")


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedCall:
    """A constructor call, parsed without evaluating anything.

    Example:
        >>> parse_call("nn.Conv2d(3, 64, 7, stride=2)").kwargs
        {'stride': 2}
    """

    text: str
    dotted: str
    framework: str
    class_name: str
    kind: str
    rank: int | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _dotted(node: ast.expr, text: str) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [*_dotted(node.value, text), node.attr]
    raise SpecError(
        f"{text!r}: the called object must be a class name like nn.Conv2d or "
        f"keras.layers.Conv2D, got {ast.unparse(node)!r}"
    )


def _literal(node: ast.expr, where: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise SpecError(
            f"{where}={ast.unparse(node)} is not a literal: arguments must be numbers, "
            "strings, True/False/None, or tuples/lists of them (nothing is evaluated)"
        ) from exc


def _class_of(path: list[str], text: str) -> tuple[str, str, int | None, str]:
    """(framework, kind, rank, class name) of a dotted class path."""
    prefix, name = ".".join(path[:-1]), path[-1]
    tables = {"torch": TORCH_CLASSES, "keras": KERAS_CLASSES}
    if prefix in TORCH_PREFIXES:
        framework = "torch"
    elif prefix in KERAS_PREFIXES:
        framework = "keras"
    elif prefix == "":
        owners = [fw for fw, table in tables.items() if name in table]
        if len(owners) > 1:
            raise SpecError(
                f"{text!r}: {name} exists in both frameworks; write nn.{name} or "
                f"keras.layers.{name}"
            )
        framework = owners[0] if owners else ""
    else:
        known = ", ".join((*TORCH_PREFIXES, *KERAS_PREFIXES))
        raise SpecError(f"{text!r}: unknown module {prefix!r}; write the class as one of {known}")
    if framework not in tables or name not in tables[framework]:
        spelled = f"{prefix}.{name}" if prefix else name
        hint = ""
        for other, table in tables.items():
            if other != framework and name in table:
                hint = f" ({name} is {FRAMEWORK_NAMES[other]}'s spelling)"
        if framework:
            known = ", ".join(sorted(tables[framework]))
            raise SpecError(
                f"unknown {FRAMEWORK_NAMES[framework]} class {spelled!r}{hint}; known: {known}"
            )
        known = ", ".join(sorted({*TORCH_CLASSES, *KERAS_CLASSES}))
        raise SpecError(f"unknown class {spelled!r}; known: {known}")
    kind, rank = tables[framework][name]
    return framework, kind, rank, name


def parse_call(text: str) -> ParsedCall:
    """Parse ``text`` as one constructor call with literal arguments (never evaluated).

    Raises ``SpecError`` for anything else: other expressions, unknown classes,
    non-literal arguments, ``*args`` / ``**kwargs``.

    Example:
        >>> call = parse_call("keras.layers.Conv2D(64, 7, strides=2, padding='same')")
        >>> call.framework, call.kind, call.rank, call.args
        ('keras', 'conv', 2, (64, 7))
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError("the layer call is empty; write e.g. nn.Conv2d(3, 64, 3)")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"{source!r} is not valid Python: {exc.msg}") from exc
    node = tree.body
    if not isinstance(node, ast.Call):
        raise SpecError(
            f"{source!r} is not a constructor call; write e.g. nn.Conv2d(3, 64, 3) or "
            "keras.layers.Conv2D(64, 3)"
        )
    path = _dotted(node.func, source)
    framework, kind, rank, name = _class_of(path, source)
    dotted = ".".join(path)
    params, _ = signature(framework, name)
    args = []
    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            raise SpecError(f"{source!r}: *{ast.unparse(arg.value)} is not allowed; spell out")
        where = f"argument {index + 1}" + (f" ({params[index]})" if index < len(params) else "")
        args.append(_literal(arg, f"{dotted}: {where}"))
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise SpecError(f"{source!r}: **{ast.unparse(kw.value)} is not allowed; spell out")
        kwargs[kw.arg] = _literal(kw.value, f"{dotted}: {kw.arg}")
    return ParsedCall(source, dotted, framework, name, kind, rank, tuple(args), kwargs)


_DIM = re.compile(r"^[1-9][0-9]*$")


def parse_input(text: str, framework: str) -> Input:
    """Parse an input shape without batch axis, in ``framework``'s own layout.

    PyTorch: ``CxHxW`` (channels first), Keras: ``HxWxC`` (channels last); one number
    is a feature vector. 1 to 4 positive integers joined by ``x``.

    Example:
        >>> parse_input("3x224x224", "torch") == parse_input("224x224x3", "keras")
        True
        >>> parse_input("3x224x224", "torch").size
        (224, 224)
    """
    layout = "CxHxW (channels first)" if framework == "torch" else "HxWxC (channels last)"
    parts = [p.strip() for p in str(text).lower().split("x")]
    if not 1 <= len(parts) <= 4 or not all(_DIM.match(p) for p in parts):
        raise SpecError(
            f"--input={text!r} must be 1 to 4 positive integers joined by 'x'; for a "
            f"{FRAMEWORK_NAMES[framework]} call write it {layout}, e.g. "
            + ("3x224x224" if framework == "torch" else "224x224x3")
        )
    dims = [int(p) for p in parts]
    if framework == "torch":
        return Input(channels=dims[0], size=tuple(dims[1:]))
    return Input(channels=dims[-1], size=tuple(dims[:-1]))


# -- binding and mapping to the spec ------------------------------------------------------


@dataclass
class _Bound:
    """Arguments mapped so far: spec fields, the declared input channels, notes."""

    call: ParsedCall
    fields: dict[str, Any] = field(default_factory=dict)
    in_channels: tuple[str, int] | None = None
    notes: list[str] = field(default_factory=list)


Handler = Callable[[_Bound, str, Any], None]


def _to(name: str) -> Handler:
    def handle(bound: _Bound, arg: str, value: Any) -> None:
        bound.fields[name] = tuple(value) if isinstance(value, list) else value

    return handle


def _only(*allowed: Any, why: str) -> Handler:
    def handle(bound: _Bound, arg: str, value: Any) -> None:
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            shown = " or ".join(repr(a) for a in allowed)
            raise SpecError(
                f"{bound.call.dotted}: {arg}={value!r} is not translated ({why}); "
                f"only {arg}={shown} is"
            )

    return handle


def _ignored(why: str) -> Handler:
    def handle(bound: _Bound, arg: str, value: Any) -> None:
        bound.notes.append(f"{arg}={value!r} ignored: {why}")

    return handle


def _channels(bound: _Bound, arg: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{bound.call.dotted}: {arg}={value!r} must be a positive integer")
    bound.in_channels = (arg, value)


def _torch_padding(bound: _Bound, arg: str, value: Any) -> None:
    if isinstance(value, str) and bound.call.kind == "conv_transpose":
        raise SpecError(
            f"{bound.call.dotted}: padding={value!r}: PyTorch's transposed convs take only "
            "integer padding"
        )
    _to("padding")(bound, arg, value)


def _keras_padding(bound: _Bound, arg: str, value: Any) -> None:
    if isinstance(value, str) and value.lower() == "causal":
        raise SpecError(
            f"{bound.call.dotted}: padding='causal' is not translated (left-only padding is "
            "not in the spec); only 'valid' and 'same' are"
        )
    if not isinstance(value, str) or value.lower() not in ("valid", "same"):
        raise SpecError(f"{bound.call.dotted}: padding={value!r} must be 'valid' or 'same'")
    bound.fields["padding"] = value.lower()


def _keras_output_padding(bound: _Bound, arg: str, value: Any) -> None:
    if value is not None:
        _to("output_padding")(bound, arg, value)


_NOT_COMPUTED = "it does not change what the layer computes once weights are ported"
_DEVICE = _ignored("the spec is built on CPU in the dtype compare chooses")

TORCH_ARGS: dict[str, Handler] = {
    "in_channels": _channels,
    "in_features": _channels,
    "out_channels": _to("filters"),
    "out_features": _to("units"),
    "kernel_size": _to("kernel_size"),
    "stride": _to("strides"),
    "padding": _torch_padding,
    "output_padding": _to("output_padding"),
    "dilation": _to("dilation"),
    "groups": _to("groups"),
    "bias": _to("use_bias"),
    "padding_mode": _only("zeros", why="the spec pads with zeros"),
    "device": _DEVICE,
    "dtype": _DEVICE,
    "start_dim": _only(1, why="the spec flattens everything but the batch axis"),
    "end_dim": _only(-1, why="the spec flattens everything but the batch axis"),
}

KERAS_ARGS: dict[str, Handler] = {
    "filters": _to("filters"),
    "units": _to("units"),
    "kernel_size": _to("kernel_size"),
    "strides": _to("strides"),
    "padding": _keras_padding,
    "output_padding": _keras_output_padding,
    "dilation_rate": _to("dilation"),
    "groups": _to("groups"),
    "depth_multiplier": _to("depth_multiplier"),
    "use_bias": _to("use_bias"),
    "data_format": _only(None, "channels_last", why="compare's Keras side is channels-last"),
    "activation": _only(
        None, "linear", why="the spec is the layer alone; add the activation after it"
    ),
    "lora_rank": _only(None, why="LoRA adapters are not part of the spec"),
    "lora_alpha": _only(None, why="LoRA adapters are not part of the spec"),
    "quantization_config": _only(None, why="quantisation is not part of the spec"),
    "name": _ignored("names are not part of the spec"),
    "dtype": _DEVICE,
    "trainable": _ignored(_NOT_COMPUTED),
}
for _w in ("kernel", "bias", "depthwise", "pointwise"):
    KERAS_ARGS[f"{_w}_initializer"] = _ignored("ported weights overwrite initial values")
    KERAS_ARGS[f"{_w}_regularizer"] = _ignored(_NOT_COMPUTED)
    KERAS_ARGS[f"{_w}_constraint"] = _ignored(_NOT_COMPUTED)
KERAS_ARGS["activity_regularizer"] = _ignored(_NOT_COMPUTED)


def _bind(call: ParsedCall) -> _Bound:
    torch = call.framework == "torch"
    params, required = signature(call.framework, call.class_name)
    extra = () if torch else KERAS_LAYER_KWARGS
    handlers = TORCH_ARGS if torch else KERAS_ARGS
    if len(call.args) > len(params):
        raise SpecError(
            f"{call.dotted} takes at most {len(params)} positional arguments "
            f"({', '.join(params)}), got {len(call.args)}"
        )
    values = dict(zip(params, call.args))
    for name, value in call.kwargs.items():
        if name not in params and name not in extra:
            known = ", ".join((*params, *extra))
            raise SpecError(f"{call.dotted}: unknown argument {name!r}; its arguments: {known}")
        if name in values:
            raise SpecError(f"{call.dotted}: argument {name!r} given by position and by name")
        values[name] = value
    missing = [p for p in params[:required] if p not in values]
    if missing:
        raise SpecError(
            f"{call.dotted}: missing required argument(s) {', '.join(map(repr, missing))}"
        )
    bound = _Bound(call)
    for name, value in values.items():
        handlers[name](bound, name, value)
    return bound


def _layer(bound: _Bound, channels: int) -> Layer:
    call, fields = bound.call, dict(bound.fields)
    kind = call.kind
    groups = fields.get("groups", 1)
    filters = fields.get("filters")
    if (
        call.framework == "torch"
        and kind == "conv"
        and call.rank in (1, 2)
        and isinstance(groups, int)
        and isinstance(filters, int)
        and groups == channels > 1
        and filters % channels == 0
    ):
        # groups == in_channels is a depthwise conv: Keras has a class for it.
        kind = "depthwise_conv"
        fields.pop("groups")
        fields["depth_multiplier"] = fields.pop("filters") // channels
        bound.notes.append(
            f"groups={groups} equals in_channels: a depthwise conv with depth_multiplier="
            f"{fields['depth_multiplier']}"
        )
    if call.rank is not None:
        fields["rank"] = call.rank
    try:
        return registry.kind_class(kind)(**fields)
    except SpecError as exc:
        raise SpecError(f"{call.dotted}: {exc}") from exc


def to_model(call: ParsedCall, input_text: str | None) -> tuple[Model, list[str]]:
    """The one-layer spec model a parsed call describes on its input, plus notes.

    Example:
        >>> model, _ = to_model(parse_call("nn.Conv2d(3, 8, 3)"), "3x16x16")
        >>> model.layers[0].filters, model.input.size
        (8, (16, 16))
    """
    bound = _bind(call)
    name = FRAMEWORK_NAMES[call.framework]
    layout = "CxHxW (channels first)" if call.framework == "torch" else "HxWxC (channels last)"
    if input_text is None:
        if call.framework == "torch" and call.kind == "dense" and bound.in_channels:
            input_text = str(bound.in_channels[1])
        else:
            raise SpecError(
                f"{call.dotted} needs --input: the input shape without batch axis, "
                f"{layout} for a {name} call"
            )
    inp = parse_input(input_text, call.framework)
    if call.rank is not None and inp.rank != call.rank:
        want = "x".join(["C", *layouts.kernel_axes(call.rank)])
        if call.framework == "keras":
            want = "x".join([*layouts.kernel_axes(call.rank), "C"])
        raise SpecError(
            f"{call.dotted} needs --input {want} ({call.rank} spatial axes plus channels), "
            f"got {input_text!r}"
        )
    if call.framework == "torch" and call.kind == "dense" and inp.rank:
        raise SpecError(
            f"nn.Linear acts on the last axis, not on channels: give --input as the number "
            f"of features (e.g. --input {bound.in_channels[1] if bound.in_channels else 64})"
            f", not {input_text!r}"
        )
    if bound.in_channels is not None and bound.in_channels[1] != inp.channels:
        arg, value = bound.in_channels
        raise SpecError(
            f"{call.dotted}: {arg}={value} but --input {input_text!r} has {inp.channels} "
            f"channels ({name} --input is {layout})"
        )
    layer = _layer(bound, inp.channels)
    model = _model(layer, inp, call)
    strides = getattr(model.layers[0], "strides", (1,))
    if call.framework == "torch" and bound.fields.get("padding") == "same" and max(strides) > 1:
        raise SpecError(
            f"{call.dotted}: padding='same' with stride={bound.fields['strides']}: PyTorch "
            "itself refuses 'same' with strides > 1 (write the padding as integers)"
        )
    if call.framework == "keras" and isinstance(layer, ConvTranspose):
        model = _keras_default_output_padding(model, call, bound)
    return model, bound.notes


def _model(layer: Layer, inp: Input, call: ParsedCall) -> Model:
    try:
        return Model(name=call.class_name, input=inp, layers=(layer,))
    except SpecError as exc:
        text = str(exc).replace(f"model '{call.class_name}', layer 0 ", "")
        raise SpecError(f"{call.dotted}: {text}") from exc


def _keras_default_output_padding(model: Model, call: ParsedCall, bound: _Bound) -> Model:
    """Keras' output_padding=None with 'valid' means (i-1)*s + max(k, s): make it explicit."""
    layer = model.layers[0]
    assert isinstance(layer, ConvTranspose)
    if "output_padding" in bound.fields or layer.padding != "valid":
        return model
    assert isinstance(layer.kernel_size, tuple) and isinstance(layer.strides, tuple)
    assert isinstance(layer.dilation, tuple)
    extra = tuple(
        max(d * (k - 1) + 1, s) - (d * (k - 1) + 1)
        for k, s, d in zip(layer.kernel_size, layer.strides, layer.dilation)
    )
    if not any(extra):
        return model
    bound.notes.append(
        f"output_padding=None with padding='valid' makes Keras output (i-1)*s + max(k, s): "
        f"output_padding={list(extra)} in the spec"
    )
    return _model(dataclasses.replace(layer, output_padding=extra), model.input, call)


# -- code in the other framework ----------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One constructor in the generated code and the weight roles it holds, in order."""

    text: str
    roles: tuple[tuple[str, str], ...] = ()  # (role, torch parameter name / keras slot)


def _v(values: tuple[int, ...]) -> str:
    """An int when every axis agrees, else the tuple."""
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


def _kw(name: str, value: tuple[int, ...], default: int) -> list[str]:
    return [] if all(v == default for v in value) else [f"{name}={_v(value)}"]


def _sym(pads: tuple[tuple[int, int], ...]) -> str:
    """Keras ZeroPadding/Cropping argument: int, per-axis ints, or per-axis pairs."""
    if all(a == b for a, b in pads):
        return _v(tuple(a for a, _ in pads))
    if len(pads) == 1:
        return str(pads[0])
    return str(tuple(pads))


def _torch_pad(pads: tuple[tuple[int, int], ...], sign: int = 1) -> str:
    out: list[int] = []
    for before, after in reversed(pads):
        out += [sign * before, sign * after]
    return str(tuple(out))


Conv_ = Conv | DepthwiseConv | SeparableConv


def _keras_padding_parts(layer: Conv_, f: LayerFormula, notes: list[str]) -> tuple[list[Part], str]:
    assert f.pads is not None
    r = f.input.rank
    if isinstance(layer.padding, str):
        return [], layer.padding
    if not any(a or b for a, b in f.pads):
        return [], "valid"
    assert isinstance(layer.kernel_size, tuple) and isinstance(layer.strides, tuple)
    assert isinstance(layer.dilation, tuple)
    tf = tuple(
        same_pads(n, k, s, d)
        for n, k, s, d in zip(f.input.size, layer.kernel_size, layer.strides, layer.dilation)
    )
    shown = _v(tuple(a for a, _ in f.pads))
    if tf == f.pads:
        notes.append(f"padding={shown} is exactly Keras' padding='same' on this input")
        return [], "same"
    notes.append(
        f"padding={shown} is not Keras' 'same' on this input ('same' would pad "
        f"{', '.join(map(str, tf))} per axis; TF puts an odd pixel at the end): "
        f"ZeroPadding{r}D then padding='valid'"
    )
    return [Part(f"keras.layers.ZeroPadding{r}D(padding={_sym(f.pads)})")], "valid"


def _keras_common(layer: Conv_, padding: str) -> list[str]:
    assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
    out = _kw("strides", layer.strides, 1)
    out += [f"padding={padding!r}"] if padding != "valid" else []
    out += _kw("dilation_rate", layer.dilation, 1)
    return out


def _bias_kw(name: str, use_bias: bool) -> list[str]:
    return [] if use_bias else [f"{name}=False"]


def _keras_conv(layer: Conv, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple)
    pre, padding = _keras_padding_parts(layer, f, notes)
    args = [str(layer.filters), _v(layer.kernel_size), *_keras_common(layer, padding)]
    args += [f"groups={layer.groups}"] if layer.groups > 1 else []
    args += _bias_kw("use_bias", layer.use_bias)
    roles = (("kernel", "kernel"), ("bias", "bias"))[: 2 if layer.use_bias else 1]
    return [*pre, Part(f"keras.layers.Conv{f.input.rank}D({', '.join(args)})", roles)]


def _keras_conv_transpose(layer: ConvTranspose, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple) and isinstance(layer.strides, tuple)
    assert isinstance(layer.dilation, tuple) and isinstance(layer.output_padding, tuple)
    assert f.pads is not None
    r = f.input.rank
    args = [str(layer.filters), _v(layer.kernel_size), *_kw("strides", layer.strides, 1)]
    crop = None
    if layer.padding == "same":
        args.append("padding='same'")
    else:
        default = tuple(
            max(d * (k - 1) + 1, s) - (d * (k - 1) + 1)
            for k, s, d in zip(layer.kernel_size, layer.strides, layer.dilation)
        )
        if layer.output_padding != default:
            args.append(f"output_padding={_v(layer.output_padding)}")
        if any(a or b for a, b in f.pads):
            crop = f.pads
    args += _kw("dilation_rate", layer.dilation, 1)
    args += _bias_kw("use_bias", layer.use_bias)
    roles = (("kernel", "kernel"), ("bias", "bias"))[: 2 if layer.use_bias else 1]
    parts = [Part(f"keras.layers.Conv{r}DTranspose({', '.join(args)})", roles)]
    if crop is not None:
        notes.append(
            f"Keras has no integer padding for transposed convs: padding='valid', then "
            f"Cropping{r}D crops what PyTorch's padding={_v(tuple(a for a, _ in crop))} removes"
        )
        parts.append(Part(f"keras.layers.Cropping{r}D(cropping={_sym(crop)})"))
    return parts


def _keras_depthwise(layer: DepthwiseConv, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple)
    pre, padding = _keras_padding_parts(layer, f, notes)
    args = [_v(layer.kernel_size), *_keras_common(layer, padding)]
    args += [f"depth_multiplier={layer.depth_multiplier}"] if layer.depth_multiplier > 1 else []
    args += _bias_kw("use_bias", layer.use_bias)
    roles = (("depthwise_kernel", "kernel"), ("bias", "bias"))[: 2 if layer.use_bias else 1]
    return [*pre, Part(f"keras.layers.DepthwiseConv{f.input.rank}D({', '.join(args)})", roles)]


def _keras_dense(layer: Dense, f: LayerFormula, notes: list[str]) -> list[Part]:
    args = [str(layer.units), *_bias_kw("use_bias", layer.use_bias)]
    if f.input.rank:
        notes.append("Keras' Dense acts on the last axis, which is the channel axis there")
    roles = (("kernel", "kernel"), ("bias", "bias"))[: 2 if layer.use_bias else 1]
    return [Part(f"keras.layers.Dense({', '.join(args)})", roles)]


def _keras_flatten(layer: Flatten, f: LayerFormula, notes: list[str]) -> list[Part]:
    if f.input.rank:
        axes = ",".join(layouts.kernel_axes(f.input.rank))
        perm = (f.input.rank + 1, *range(1, f.input.rank + 1))
        notes.append(
            f"keras.layers.Flatten() orders features {axes},C, PyTorch C,{axes}; a following "
            f"Dense kernel must have its rows permuted (or put keras.layers.Permute({perm}) "
            "before Flatten to get PyTorch's order)"
        )
    return [Part("keras.layers.Flatten()")]


def _torch_padding_parts(
    layer: Conv_, f: LayerFormula, notes: list[str]
) -> tuple[list[Part], list[str]]:
    """(leading parts, padding keyword arguments) for a torch conv family member."""
    assert f.pads is not None and isinstance(layer.strides, tuple)
    r = f.input.rank
    if all(a == b for a, b in f.pads):
        values = tuple(a for a, _ in f.pads)
        if layer.padding == "same" and any(values):
            notes.append(f"Keras' 'same' pads {_v(values)} on each side here: padding={_v(values)}")
        return [], _kw("padding", values, 0)
    if all(s == 1 for s in layer.strides):
        notes.append(
            f"Keras' 'same' pads {', '.join(map(str, f.pads))} here (the odd pixel at the end); "
            "PyTorch's padding='same' (stride 1 only) splits it the same way"
        )
        return [], ["padding='same'"]
    notes.append(
        f"Keras' 'same' pads {', '.join(map(str, f.pads))} here: asymmetric, and nn.Conv{r}d "
        f"refuses padding='same' with stride > 1, so nn.ZeroPad{r}d comes first and the conv "
        "has padding=0"
    )
    return [Part(f"nn.ZeroPad{r}d({_torch_pad(f.pads)})")], []


def _torch_common(layer: Conv_, padding: list[str]) -> list[str]:
    assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
    return [*_kw("stride", layer.strides, 1), *padding, *_kw("dilation", layer.dilation, 1)]


def _weight_roles(kernel: str, use_bias: bool) -> tuple[tuple[str, str], ...]:
    return ((kernel, "weight"), ("bias", "bias"))[: 2 if use_bias else 1]


def _torch_conv(layer: Conv, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple)
    pre, padding = _torch_padding_parts(layer, f, notes)
    args = [str(f.input.channels), str(layer.filters), _v(layer.kernel_size)]
    args += _torch_common(layer, padding)
    args += [f"groups={layer.groups}"] if layer.groups > 1 else []
    args += _bias_kw("bias", layer.use_bias)
    roles = _weight_roles("kernel", layer.use_bias)
    return [*pre, Part(f"nn.Conv{f.input.rank}d({', '.join(args)})", roles)]


def _torch_conv_transpose(layer: ConvTranspose, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple) and isinstance(layer.strides, tuple)
    assert isinstance(layer.dilation, tuple)
    assert f.pads is not None and f.extend is not None
    r = f.input.rank
    symmetric = all(a == b for a, b in f.pads)
    args = [str(f.input.channels), str(layer.filters), _v(layer.kernel_size)]
    args += _kw("stride", layer.strides, 1)
    args += _kw("padding", tuple(a for a, _ in f.pads), 0) if symmetric else []
    args += _kw("output_padding", f.extend, 0)
    args += [f"groups={layer.groups}"] if layer.groups > 1 else []
    args += _bias_kw("bias", layer.use_bias)
    args += _kw("dilation", layer.dilation, 1)
    parts = [
        Part(f"nn.ConvTranspose{r}d({', '.join(args)})", _weight_roles("kernel", layer.use_bias))
    ]
    if layer.padding == "same" and symmetric and any(a for a, _ in f.pads):
        notes.append(
            f"Keras' 'same' crops {_v(tuple(a for a, _ in f.pads))} from each end here: "
            f"padding={_v(tuple(a for a, _ in f.pads))}"
        )
    if not symmetric:
        notes.append(
            f"Keras' 'same' crops {', '.join(map(str, f.pads))} of the full output here: "
            f"asymmetric, so padding=0 and nn.ZeroPad{r}d with negative padding crops"
        )
        parts.append(Part(f"nn.ZeroPad{r}d({_torch_pad(f.pads, -1)})"))
    return parts


def _torch_depthwise(layer: DepthwiseConv, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple)
    pre, padding = _torch_padding_parts(layer, f, notes)
    c, m = f.input.channels, layer.depth_multiplier
    args = [str(c), str(c * m), _v(layer.kernel_size), *_torch_common(layer, padding)]
    args += [f"groups={c}", *_bias_kw("bias", layer.use_bias)]
    notes.append(f"PyTorch has no depthwise class: a conv with groups={c} (= in_channels)")
    roles = _weight_roles("depthwise_kernel", layer.use_bias)
    return [*pre, Part(f"nn.Conv{f.input.rank}d({', '.join(args)})", roles)]


def _torch_separable(layer: SeparableConv, f: LayerFormula, notes: list[str]) -> list[Part]:
    assert isinstance(layer.kernel_size, tuple)
    pre, padding = _torch_padding_parts(layer, f, notes)
    r, c, m = f.input.rank, f.input.channels, layer.depth_multiplier
    depthwise = [str(c), str(c * m), _v(layer.kernel_size), *_torch_common(layer, padding)]
    depthwise += [f"groups={c}", "bias=False"]
    pointwise = [str(c * m), str(layer.filters), "1", *_bias_kw("bias", layer.use_bias)]
    notes.append(
        f"PyTorch has no separable class: a conv with groups={c} and no bias, then a 1x1 "
        "conv holding the only bias"
    )
    return [
        *pre,
        Part(f"nn.Conv{r}d({', '.join(depthwise)})", (("depthwise_kernel", "weight"),)),
        Part(
            f"nn.Conv{r}d({', '.join(pointwise)})",
            (("pointwise_kernel", "weight"), ("bias", "bias"))[: 2 if layer.use_bias else 1],
        ),
    ]


def _torch_dense(layer: Dense, f: LayerFormula, notes: list[str]) -> list[Part]:
    args = [str(f.input.channels), str(layer.units), *_bias_kw("bias", layer.use_bias)]
    if f.input.rank:
        notes.append(
            "nn.Linear acts on the last axis, which is not the channel axis of an "
            "(N, C, ...) map: call it as torch_layer(x.movedim(1, -1)).movedim(-1, 1)"
        )
    return [Part(f"nn.Linear({', '.join(args)})", _weight_roles("kernel", layer.use_bias))]


def _torch_flatten(layer: Flatten, f: LayerFormula, notes: list[str]) -> list[Part]:
    if f.input.rank:
        axes = ",".join(layouts.kernel_axes(f.input.rank))
        perm = (0, *range(2, f.input.rank + 2), 1)
        notes.append(
            f"nn.Flatten() orders features C,{axes}, Keras {axes},C; a following Linear "
            f"must have its columns permuted (or flatten x.permute{perm} to get Keras' order)"
        )
    return [Part("nn.Flatten()")]


CodeRule = Callable[[Any, LayerFormula, list[str]], list[Part]]
CODE: dict[str, dict[type[Layer], CodeRule]] = {
    "keras": {
        Conv: _keras_conv,
        ConvTranspose: _keras_conv_transpose,
        DepthwiseConv: _keras_depthwise,
        Dense: _keras_dense,
        Flatten: _keras_flatten,
    },
    "torch": {
        Conv: _torch_conv,
        ConvTranspose: _torch_conv_transpose,
        DepthwiseConv: _torch_depthwise,
        SeparableConv: _torch_separable,
        Dense: _torch_dense,
        Flatten: _torch_flatten,
    },
}


def _code(parts: list[Part], target: str) -> str:
    var, seq = (
        ("keras_layer", "keras.Sequential")
        if target == "keras"
        else ("torch_layer", "nn.Sequential")
    )
    head = "import keras" if target == "keras" else "from torch import nn"
    if len(parts) == 1:
        return f"{head}\n\n{var} = {parts[0].text}"
    if target == "keras":
        body = "".join(f"    {p.text},\n" for p in parts)
        return f"{head}\n\n{var} = {seq}([\n{body}])"
    body = "".join(f"    {p.text},\n" for p in parts)
    return f"{head}\n\n{var} = {seq}(\n{body})"


def _source_roles(call: ParsedCall, layer: Layer) -> list[str]:
    """The source layer's weight roles in the order its framework lists them."""
    kernel = {"depthwise_conv": "depthwise_kernel"}.get(layer.kind, "kernel")
    roles = ["depthwise_kernel", "pointwise_kernel"] if layer.kind == "separable_conv" else [kernel]
    if layer.kind == "flatten":
        return []
    return [*roles, "bias"] if getattr(layer, "use_bias", False) else roles


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _port_code(
    call: ParsedCall,
    model: Model,
    formula: LayerFormula,
    parts: list[Part],
    shapes: dict[str, dict[str, tuple[int, ...]]],
) -> str:
    """Statements that move the weights from the source layer into the generated one."""
    layer, source = model.layers[0], call.framework
    target = "keras" if source == "torch" else "torch"
    roles = _source_roles(call, layer)
    if not roles:
        return "# no weights to port"
    lines = []
    if source == "torch":
        lines.append("import numpy as np")
        lines.append("w = {k: v.detach().numpy() for k, v in torch_layer.state_dict().items()}")
        src_names = {role: f'w["{"weight" if role != "bias" else "bias"}"]' for role in roles}
    else:
        lines += ["import numpy as np", "import torch"]
        unpack = ", ".join(roles) + ("," if len(roles) == 1 else "")
        lines.append(f"{unpack} = keras_layer.get_weights()")
        src_names = {role: role for role in roles}
    groups = getattr(layer, "groups", 1)
    for role in roles:
        lay = layouts.weight_layout(layer.kind, role, formula.input.rank, groups=groups)
        src, dst = (lay.torch, lay.keras) if source == "torch" else (lay.keras, lay.torch)
        sizes = layouts.split_sizes(layer, formula, role)
        expr = src_names[role]
        src_shape, dst_shape = shapes[source][role], shapes[target][role]
        if tuple(sizes[a] for a in src) != src_shape:
            expr = f"{expr}.reshape{_shape(tuple(sizes[a] for a in src))}"
        perm = layouts.permutation(src, dst)
        if perm != tuple(range(len(perm))):
            expr = f"np.transpose({expr}, {perm})"
        if tuple(sizes[a] for a in dst) != dst_shape:
            expr = f"{expr}.reshape{_shape(dst_shape)}"
        shown = (lay.torch_shown, lay.keras_shown)
        src_axes, dst_axes = shown if source == "torch" else shown[::-1]
        if expr != src_names[role]:
            lines.append(
                f"# {_shape(src_shape)} [{','.join(src_axes)}] -> "
                f"{_shape(dst_shape)} [{','.join(dst_axes)}]"
            )
        lines.append(f"{role}_{target} = {expr}")
    if target == "keras":
        dims = ", ".join(["None", *map(str, formula.input.keras()[1:])])
        order = [role for p in parts for role, _ in p.roles]
        lines.append(f"keras_layer.build(({dims}))")
        lines.append(f"keras_layer.set_weights([{', '.join(f'{r}_keras' for r in order)}])")
    else:
        prefix = len(parts) > 1
        entries = []
        for index, p in enumerate(parts):
            for role, param in p.roles:
                key = f"{index}.{param}" if prefix else param
                entries.append(
                    f'    "{key}": torch.from_numpy(np.ascontiguousarray({role}_torch)),\n'
                )
        lines.append("torch_layer.load_state_dict({\n" + "".join(entries) + "})")
    return "\n".join(lines)


def _activation_code(formula: LayerFormula, source: str) -> str:
    rank = formula.input.rank
    if not rank:
        return "# the input is a feature vector: (N, C) in both frameworks"
    axes = ", ".join(layouts.kernel_axes(rank))
    if source == "torch":
        return f"x_keras = np.moveaxis(x_torch, 1, -1)  # (N, C, {axes}) -> (N, {axes}, C)"
    return f"x_torch = np.moveaxis(x_keras, -1, 1)  # (N, {axes}, C) -> (N, C, {axes})"


# -- the whole translation ----------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """A call translated into the other framework, with the comparison that backs it.

    ``code`` and ``weights`` are ``None`` when the other framework cannot express the
    layer; ``result`` then says why (status ``unsupported``).

    Example:
        >>> t = translate("nn.Conv2d(3, 8, 3)", "3x16x16")  # doctest: +SKIP
        >>> t.code  # doctest: +SKIP
        'import keras\\n\\nkeras_layer = keras.layers.Conv2D(8, 3)'
    """

    call: ParsedCall
    model: Model
    formula: LayerFormula
    target: str
    code: str | None
    weights: str | None
    activations: str
    notes: tuple[str, ...]
    result: ModelResult

    @property
    def status(self) -> str:
        """The comparison's status: ``ok``, ``mismatch``, ``unsupported`` or ``error``."""
        return self.result.status

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        layer = self.result.layers[0] if self.result.layers else None
        return {
            "source": {
                "framework": self.call.framework,
                "call": self.call.text,
                "class": self.call.class_name,
                "input": self.model.input.to_dict(),
            },
            "spec": self.model.layers[0].to_dict(),
            "formula": {
                "params": self.formula.params,
                "expression": self.formula.expression,
                "output_shape": {
                    "torch": list(self.formula.output.torch()),
                    "keras": list(self.formula.output.keras()),
                },
            },
            "target": {
                "framework": self.target,
                "code": self.code,
                "weights": self.weights,
                "activations": self.activations,
            },
            "notes": list(self.notes),
            "differences": [d.to_dict() for d in layer.differences] if layer else [],
            "status": self.status,
            "comparison": self.result.to_dict(),
        }


def translate(text: str, input_text: str | None = None, *, dtype: str = "float32") -> Translation:
    """Translate a PyTorch or Keras constructor call on an input into the other framework.

    Raises ``SpecError`` for a call that cannot be parsed or mapped; a layer the other
    framework cannot express is a result with status ``unsupported``.

    Example:
        >>> t = translate("nn.Conv2d(3, 64, 7, stride=2, padding=3)", "3x224x224")
        >>> print(t.code)
        import keras
        <BLANKLINE>
        keras_layer = keras.Sequential([
            keras.layers.ZeroPadding2D(padding=3),
            keras.layers.Conv2D(64, 7, strides=2),
        ])
    """
    from compare.comparison import compare_model

    call = parse_call(text)
    model, notes = to_model(call, input_text)
    formula = infer(model)[0]
    target = "keras" if call.framework == "torch" else "torch"
    result = compare_model(model, dtype=dtype)
    notes = list(notes)
    rule = CODE[target].get(type(model.layers[0]))
    layer_result = result.layers[0] if result.layers else None
    own = layer_result.frameworks.get(call.framework) if layer_result else None
    if own is not None and not own.supported:
        raise SpecError(f"{call.dotted}: {own.reason}")
    supported = layer_result is not None and all(
        fw.supported for fw in layer_result.frameworks.values()
    )
    code = weights = None
    if rule is not None and supported and layer_result is not None:
        parts = rule(model.layers[0], formula, notes)
        code = _code(parts, target)
        shapes = {
            name: {w.role: w.shape for w in fw.weights if w.role}
            for name, fw in layer_result.frameworks.items()
        }
        weights = _port_code(call, model, formula, parts, shapes)
    return Translation(
        call,
        model,
        formula,
        target,
        code,
        weights,
        _activation_code(formula, call.framework),
        tuple(notes),
        result,
    )


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


def render_text(t: Translation) -> str:
    """The translation as text for a terminal.

    Example:
        >>> print(render_text(translate("nn.Linear(8, 4)")))  # doctest: +SKIP
        PyTorch nn.Linear(8, 4) on input 8 ...
    """
    src, dst = FRAMEWORK_NAMES[t.call.framework], FRAMEWORK_NAMES[t.target]
    inp = t.model.input
    shape = t.formula.input.torch() if t.call.framework == "torch" else t.formula.input.keras()
    spec = ", ".join(f"{k}={v!r}" for k, v in t.model.layers[0].to_dict().items() if k != "kind")
    out = t.formula.output
    ranked = f"{inp.rank}d" if hasattr(t.model.layers[0], "rank") else ""
    lines = [
        f"{src} {t.call.text} on input {_shape(shape[1:])} "
        f"(batch axis left out; {inp.channels} channels)",
        f"spec: {t.model.layers[0].kind}{ranked}({spec})",
        f"output: PyTorch {_shape(out.torch())}, Keras {_shape(out.keras())}; "
        f"params {t.formula.expression}",
        "",
    ]
    if t.code is None:
        reasons = t.result.parity.detail or t.result.error or "unknown reason"
        lines += [f"{dst} equivalent: none. {reasons}"]
    else:
        lines += [f"{dst} equivalent:", _indent(t.code), ""]
        lines += [f"Port the weights ({src} -> {dst}):", _indent(t.weights or ""), ""]
        lines += ["Activations:", _indent(t.activations)]
    if t.notes:
        lines += ["", "Notes:", *(f"  - {n}" for n in t.notes)]
    layer = t.result.layers[0] if t.result.layers else None
    if layer is not None and layer.differences:
        lines += ["", "Differences (read back from both frameworks):"]
        for d in layer.differences:
            text = f"  - {d.what}: {d.detail}"
            if d.measured:
                naive = d.naive_max_abs_err
                shown = "not comparable" if naive is None else f"max|diff| {naive:.2g}"
                text += f" [naive port: {shown}: {d.naive_detail}]"
            lines.append(text)
    p = t.result.parity
    measured = f", max|err| {p.max_abs_err:.2g}" if p.max_abs_err is not None else ""
    lines += ["", f"parity after porting: {p.status}{measured}"]
    return "\n".join(lines)


def run_cli(call: str, input_text: str | None, fmt: str = "text", dtype: str = "float32") -> int:
    """``python -m compare translate``: print the translation; return the exit code.

    0: translated and parity ok; 1: the other framework cannot express it or parity
    failed; 2: the call or the input cannot be parsed or mapped (one-line error).

    Example:
        >>> run_cli("nn.Conv2d(3, 64, 3)", "64x8x8")  # doctest: +SKIP
        2
    """
    import json
    import sys

    try:
        t = translate(call, input_text, dtype=dtype)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if fmt == "json":
        print(json.dumps(t.to_dict(), indent=2, allow_nan=False))
    else:
        print(render_text(t))
    return 0 if t.status == "ok" else 1
