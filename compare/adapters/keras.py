"""Keras 3 (TensorFlow backend) adapter: channels-last layers built from specs.

Only public API (``keras.layers``). Builders are tables keyed by rank. Keras has no
integer padding, so explicit padding becomes ``ZeroPaddingND`` + ``'valid'`` (or
``'same'`` where that is exactly the same padding); a transposed conv with integer
padding is ``'valid'`` plus ``CroppingND``; Keras has no 3-D depthwise or separable
layer, so those are a grouped ``Conv3D`` (plus a 1x1x1 ``Conv3D``), which is what
they compute. Where Keras itself refuses a spec, its own message is the reason.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from compare import layouts
from compare.adapters._keras_import import keras, tf
from compare.adapters.base import Built, LayerTables, Notes, Unsupported, WeightFact
from compare.formulas import LayerFormula, same_pads
from compare.spec import (
    Conv,
    ConvTranspose,
    Dense,
    DepthwiseConv,
    Flatten,
    Layer,
    SeparableConv,
)

__all__ = ["KerasAdapter"]

L = keras.layers
_CONV = {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D}
_CONV_T = {1: L.Conv1DTranspose, 2: L.Conv2DTranspose, 3: L.Conv3DTranspose}
_DEPTHWISE = {1: L.DepthwiseConv1D, 2: L.DepthwiseConv2D}
_SEPARABLE = {1: L.SeparableConv1D, 2: L.SeparableConv2D}
_ZERO_PAD = {1: L.ZeroPadding1D, 2: L.ZeroPadding2D, 3: L.ZeroPadding3D}
_CROP = {1: L.Cropping1D, 2: L.Cropping2D, 3: L.Cropping3D}

# role -> (layer, variable attribute, shape the role array has, or None if native)
Role = tuple[Any, str, tuple[int, ...] | None]


def _pad_arg(pads: tuple[tuple[int, int], ...]) -> Any:
    return pads[0] if len(pads) == 1 else pads


# On the TensorFlow backend a Keras variable's ``value`` is a ``tf.Variable``; it is
# read and written with TensorFlow's own resource ops, the work ``Variable.numpy()``
# and ``.assign()`` do under several layers of Python. Measured on a fresh Conv2D's
# kernel and bias: 0.06 ms instead of 0.14 to read both, 0.03 instead of 0.19 to write.
def _read(var: Any) -> np.ndarray:
    """A Keras variable's value as a fresh NumPy array."""
    value = var.value
    return np.array(tf.raw_ops.ReadVariableOp(resource=value.handle, dtype=value.dtype))


def _write(var: Any, array: np.ndarray) -> None:
    """Write ``array`` (the variable's shape and dtype) into a Keras variable."""
    tf.raw_ops.AssignVariableOp(resource=var.value.handle, value=array)


#: Why a dilated transposed convolution is refused on the Keras side. TensorFlow's CPU
#: kernel for it (``Conv2DBackpropInput`` / ``Conv3DBackpropInputV2``) raises
#: "Current CPU implementations do not yet support dilation rates larger than 1"
#: when the layer runs; only CPUs on which TensorFlow enables oneDNN run it. The
#: refusal is made for every machine so that reports do not depend on the CPU
#: (``tests/test_keras_cpu.py`` checks the real kernel on the machine it runs on).
DILATED_TRANSPOSE = (
    "TensorFlow's CPU kernel for transposed convolutions refuses dilation_rate > 1 "
    "('Current CPU implementations do not yet support dilation rates larger than 1'; "
    "only CPUs on which TensorFlow enables oneDNN run it)"
)


def _refused(exc: Exception) -> Unsupported:
    text = " ".join(str(exc).split())
    return Unsupported(f"Keras refuses it: {text}")


class KerasAdapter(LayerTables):
    """Builds specs as Keras layers (channels-last, CPU) and reads their facts.

    Example:
        >>> from compare.spec import Input, Model, Conv
        >>> from compare.formulas import infer
        >>> m = Model("m", Input(1, (8, 8)), (Conv(filters=2, kernel_size=3),))
        >>> KerasAdapter().build(m.layers[0], infer(m)[0], 0, "float32").classes
        ('Conv2D',)
    """

    name = "keras"
    tables = "compare.adapters.keras_layers"

    def __init__(self) -> None:
        self._seed = 0
        self._builders: dict[type[Layer], Callable[..., Built]] = {
            Conv: self._conv,
            ConvTranspose: self._conv_transpose,
            DepthwiseConv: self._depthwise,
            SeparableConv: self._separable,
            Dense: self._dense,
            Flatten: self._flatten,
        }
        # Sequence families (lstm, gru, simple_rnn, embedding) live in their own module.
        from compare.adapters import keras_sequence

        for cls, make in keras_sequence.BUILDERS.items():
            self._builders[cls] = lambda layer, formula, name, dtype, make=make: self._made(
                *make(layer, formula, name, dtype)
            )

        # Normalisation, pooling, dropout and activation kinds: their own module too.
        from compare.adapters.keras_layers import LAYER_BUILDERS

        for cls, make in LAYER_BUILDERS.items():
            self._builders[cls] = self._wrap(make)

    def _wrap(self, make: Callable[..., Any]) -> Callable[..., Built]:
        def builder(layer: Layer, formula: LayerFormula, name: str, dtype: str) -> Built:
            parts, roles, notes = make(layer, formula, name, dtype)
            return self._made(parts, roles, notes)

        return builder

    def clear(self) -> None:
        """Release Keras' global state (``keras.backend.clear_session``), without a
        full garbage collection: layers already built stay usable."""
        keras.backend.clear_session(free_memory=False)

    def seed(self, seed: int) -> None:
        """Seed the initialisers of the layers built next.

        An unseeded Keras initializer draws its own integer seed from Python's
        ``random`` when it is constructed; ``build`` seeds that draw with
        (``seed``, layer index) and restores the caller's ``random`` state, so fresh
        layers are reproducible without touching any global seed.
        """
        self._seed = seed

    def build(
        self,
        layer: Layer,
        formula: LayerFormula,
        index: int,
        dtype: str,
        *,
        shape_only: bool = False,
    ) -> Built:
        builder = self._builders.get(type(layer))
        if builder is None:
            raise Unsupported(f"the keras adapter has no builder for kind '{layer.kind}'")
        name = f"{layer.kind}_{index}"
        # In a StatelessScope that does not initialise on exit, ``build`` creates every
        # variable with its shape, dtype and initializer but no value (Keras' deferred
        # initialisation): the layer's facts are real, its weights never allocated.
        # Keras keeps such variables in a global list until ``clear_session()``.
        scope: Any = (
            keras.StatelessScope(initialize_variables=False)
            if shape_only
            else contextlib.nullcontext()
        )
        with scope:
            state = random.getstate()
            random.seed(f"compare:{self._seed}:{index}")
            try:
                built = builder(layer, formula, name, dtype)
            except (ValueError, TypeError, NotImplementedError) as exc:
                raise _refused(exc) from exc
            finally:
                random.setstate(state)
            activation = getattr(layer, "activation", "linear")
            if layer.post_activation and activation != "linear":
                from compare.adapters.keras_layers import precision_notes

                self._carry_activation(built, activation)
                built.notes = (*built.notes, *precision_notes(activation, dtype))
            shape: Any = formula.input.keras()
            for i, part in enumerate(built.obj):
                part.build(shape)
                if i + 1 < len(built.obj):
                    shape = part.compute_output_shape(shape)
        return built

    @staticmethod
    def _carry_activation(built: Built, activation: str) -> None:
        """Give the layer owning the kernel the spec's activation (Keras layers carry one)."""
        from compare.adapters.keras_layers import activation_function

        owner = next(
            built.roles[role][0]
            for role in ("pointwise_kernel", "kernel", "depthwise_kernel")
            if role in built.roles
        )
        owner.activation = activation_function(activation)
        text = f"{type(owner).__name__}(activation='{activation}') applies it inside the layer"
        built.notes = (*built.notes, ("activation", text))

    # -- builders -------------------------------------------------------------------
    def _conv_padding(
        self,
        layer: Conv | DepthwiseConv | SeparableConv,
        formula: LayerFormula,
        name: str,
        dtype: str,
    ) -> tuple[list[Any], str, Notes]:
        """Leading ZeroPadding layers (if any), the conv's padding, and notes."""
        assert formula.pads is not None
        if isinstance(layer.padding, str):
            return [], layer.padding, ()
        if all(a == 0 and b == 0 for a, b in formula.pads):
            return [], "valid", ()
        assert isinstance(layer.kernel_size, tuple)
        assert isinstance(layer.strides, tuple) and isinstance(layer.dilation, tuple)
        tf_same = tuple(
            same_pads(n, k, s, d)
            for n, k, s, d in zip(
                formula.input.size, layer.kernel_size, layer.strides, layer.dilation
            )
        )
        if tf_same == formula.pads:
            note = f"padding={formula.pads} is exactly what padding='same' does here"
            return [], "same", (("padding", note),)
        rank = formula.input.rank
        pad = _ZERO_PAD[rank](_pad_arg(formula.pads), name=f"{name}_pad", dtype=dtype)
        note = (
            f"Keras has no integer padding: ZeroPadding{rank}D{_pad_arg(formula.pads)} "
            "then padding='valid'"
        )
        return [pad], "valid", (("padding", note),)

    def _conv(self, layer: Conv, formula: LayerFormula, name: str, dtype: str) -> Built:
        rank = formula.input.rank
        pre, padding, notes = self._conv_padding(layer, formula, name, dtype)
        extra = {"groups": layer.groups} if layer.groups > 1 else {}
        conv = _CONV[rank](
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            padding=padding,
            dilation_rate=layer.dilation,
            use_bias=layer.use_bias,
            name=name,
            dtype=dtype,
            **extra,
        )
        return self._made(
            [*pre, conv], {"kernel": (conv, "kernel", None), "bias": (conv, "bias", None)}, notes
        )

    def _conv_transpose(
        self, layer: ConvTranspose, formula: LayerFormula, name: str, dtype: str
    ) -> Built:
        rank = formula.input.rank
        extra = {"groups": layer.groups} if layer.groups > 1 else {}
        if layer.padding == "same":
            padding, output_padding, crop = "same", None, None
        else:
            padding, output_padding = "valid", layer.output_padding
            crop = None if layer.padding == "valid" else formula.pads
            if crop is not None and not any(a or b for a, b in crop):
                crop = None
        conv = _CONV_T[rank](
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=layer.dilation,
            use_bias=layer.use_bias,
            name=name,
            dtype=dtype,
            **extra,
        )
        if max(layer.dilation) > 1:  # after Keras' own refusals, which come first
            raise Unsupported(DILATED_TRANSPOSE)
        parts: list[Any] = [conv]
        notes: Notes = ()
        if crop is not None:
            parts.append(_CROP[rank](_pad_arg(crop), name=f"{name}_crop", dtype=dtype))
            text = (
                "Keras has no integer padding for transposed convs: padding='valid', "
                f"output_padding={output_padding}, then "
                f"Cropping{rank}D{_pad_arg(crop)}"
            )
            notes = (("padding", text),)
        roles = {"kernel": (conv, "kernel", None), "bias": (conv, "bias", None)}
        return self._made(parts, roles, notes)

    def _depthwise(
        self, layer: DepthwiseConv, formula: LayerFormula, name: str, dtype: str
    ) -> Built:
        rank, c, m = formula.input.rank, formula.input.channels, layer.depth_multiplier
        pre, padding, notes = self._conv_padding(layer, formula, name, dtype)
        assert isinstance(layer.kernel_size, tuple)
        common = dict(
            strides=layer.strides,
            padding=padding,
            dilation_rate=layer.dilation,
            use_bias=layer.use_bias,
            name=name,
            dtype=dtype,
        )
        if rank in _DEPTHWISE:
            conv = _DEPTHWISE[rank](layer.kernel_size, depth_multiplier=m, **common)
            role_shape = None
        else:
            conv = _CONV[rank](c * m, layer.kernel_size, groups=c, **common)
            role_shape = (*layer.kernel_size, c, m)
            text = f"Keras has no DepthwiseConv{rank}D: Conv{rank}D(groups={c}) computes the same"
            notes += (("realisation", text),)
        roles = {"depthwise_kernel": (conv, "kernel", role_shape), "bias": (conv, "bias", None)}
        return self._made([*pre, conv], roles, notes)

    def _separable(
        self, layer: SeparableConv, formula: LayerFormula, name: str, dtype: str
    ) -> Built:
        rank, c, m = formula.input.rank, formula.input.channels, layer.depth_multiplier
        pre, padding, notes = self._conv_padding(layer, formula, name, dtype)
        assert isinstance(layer.kernel_size, tuple)
        common = dict(strides=layer.strides, padding=padding, dilation_rate=layer.dilation)
        if rank in _SEPARABLE:
            conv = _SEPARABLE[rank](
                layer.filters,
                layer.kernel_size,
                depth_multiplier=m,
                use_bias=layer.use_bias,
                name=name,
                dtype=dtype,
                **common,
            )
            roles: dict[str, Role] = {
                "depthwise_kernel": (conv, "depthwise_kernel", None),
                "pointwise_kernel": (conv, "pointwise_kernel", None),
                "bias": (conv, "bias", None),
            }
            return self._made([*pre, conv], roles, notes)
        depthwise = _CONV[rank](
            c * m,
            layer.kernel_size,
            groups=c,
            use_bias=False,
            name=f"{name}_depthwise",
            dtype=dtype,
            **common,
        )
        pointwise = _CONV[rank](layer.filters, 1, use_bias=layer.use_bias, name=name, dtype=dtype)
        text = (
            f"Keras has no SeparableConv{rank}D: Conv{rank}D(groups={c}) then a 1x1x1 "
            f"Conv{rank}D compute the same"
        )
        notes += (("realisation", text),)
        roles = {
            "depthwise_kernel": (depthwise, "kernel", (*layer.kernel_size, c, m)),
            "pointwise_kernel": (pointwise, "kernel", None),
            "bias": (pointwise, "bias", None),
        }
        return self._made([*pre, depthwise, pointwise], roles, notes)

    def _dense(self, layer: Dense, formula: LayerFormula, name: str, dtype: str) -> Built:
        dense = L.Dense(layer.units, use_bias=layer.use_bias, name=name, dtype=dtype)
        return self._made(
            [dense], {"kernel": (dense, "kernel", None), "bias": (dense, "bias", None)}
        )

    def _flatten(self, layer: Flatten, formula: LayerFormula, name: str, dtype: str) -> Built:
        return self._made([L.Flatten(name=name, dtype=dtype)], {})

    @staticmethod
    def _made(parts: list[Any], roles: Mapping[str, Role], notes: Notes = ()) -> Built:
        classes = tuple(type(p).__name__ for p in parts)
        return Built("keras", parts, classes, dict(roles), notes)

    # -- running and reading --------------------------------------------------------
    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Call every layer with ``training`` (False: inference, the default)."""
        y: Any = x
        for part in built.obj:
            y = part(y, training=training)
        return np.asarray(keras.ops.convert_to_numpy(y))

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """Run with role arrays (Keras layout) in place of the layer's own weights,
        which stay untouched (a ``keras.StatelessScope`` maps each variable to a value)."""
        mapping = []
        for role, array in weights.items():
            var = self._variable(built.roles[role])
            mapping.append((var, array.reshape(tuple(var.shape)).astype(var.dtype)))
        with keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
            return self.run(built, x)

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        shape: Any = input_shape
        for part in built.obj:
            shape = part.compute_output_shape(shape)
        return tuple(int(d) for d in shape)

    def _variable(self, ref: Role) -> Any:
        layer, attr, _ = ref
        return getattr(layer, attr, None)

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
        role_of = {
            id(self._variable(ref)): role
            for role, ref in built.roles.items()
            if self._variable(ref) is not None
        }
        weights = []
        trainable = non_trainable = buffers = 0
        for part in built.obj:
            # One read of each list (Keras rebuilds them on every access); a weight
            # counts as trainable exactly when Keras lists it in trainable_weights.
            part_weights = part.weights
            trainable_ids = {id(w) for w in part.trainable_weights}
            for w in part_weights:
                role = role_of.get(id(w))
                axes = (
                    layouts.weight_axes(layer, formula, role, "keras", len(w.shape)) if role else ()
                )
                shape = tuple(int(d) for d in w.shape)
                weights.append(WeightFact(w.path, shape, axes, w.trainable, role))
                if id(w) in trainable_ids:
                    trainable += math.prod(shape)
                else:
                    non_trainable += math.prod(shape)
            weight_ids = {id(w) for w in part_weights}
            buffers += sum(
                math.prod(int(d) for d in v.shape)
                for v in part.variables
                if id(v) not in weight_ids
            )
        return {
            "weights": tuple(weights),
            "trainable_params": trainable,
            "non_trainable_params": non_trainable,
            "buffers": buffers,
        }

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        out = {}
        for role, ref in built.roles.items():
            var = self._variable(ref)
            if var is None:
                continue
            array = _read(var)
            out[role] = array.reshape(ref[2]) if ref[2] is not None else array
        return out

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        out = {}
        for role, ref in built.roles.items():
            var = self._variable(ref)
            if var is not None:
                out[role] = ref[2] if ref[2] is not None else tuple(int(d) for d in var.shape)
        return out

    def set_weights(self, built: Built, weights: dict[str, np.ndarray]) -> None:
        for role, array in weights.items():
            var = self._variable(built.roles[role])
            want = built.roles[role][2] or tuple(var.shape)
            if tuple(array.shape) != tuple(want):
                raise ValueError(f"keras {role}: expected shape {tuple(want)}, got {array.shape}")
            _write(var, array.reshape(tuple(var.shape)).astype(var.dtype, copy=False))

    def assemble(
        self,
        builts: list[Built],
        input_shape: tuple[int, ...],
        dtype: str,
        input_dtype: str | None = None,
    ) -> Any:
        inputs = keras.Input(shape=input_shape, dtype=input_dtype or dtype)
        y = inputs
        for built in builts:
            for part in built.obj:
                y = part(y)
        return keras.Model(inputs, y)
