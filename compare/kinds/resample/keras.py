"""Keras builder and defaults of the ``resample`` kind: ``UpSamplingND``, ``Resizing``,
and, where neither reads the input the spec's way, TensorFlow's own resize kernels in
``TFResize2D``.

Keras' resizes use half-pixel centres only (TensorFlow 2's ``tf.image.resize``): they
cannot align corners, and their ``'nearest'`` is PyTorch's ``'nearest-exact'``.
TensorFlow still has the kernels with ``align_corners`` and the legacy nearest rule
(``ResizeBilinear`` / ``ResizeNearestNeighbor`` with ``half_pixel_centers=False``);
``TFResize2D`` is a Keras layer that calls them.

Example:
    >>> from compare.formulas import infer
    >>> from compare.spec import Input, Model
    >>> from compare.kinds.resample.spec import Resample
    >>> m = Model("m", Input(1, (4, 4)), (Resample(scale=2),))
    >>> type(build_resample(m.layers[0], infer(m)[0], "r", "float32")[0][0]).__name__
    'UpSampling2D'
"""

from __future__ import annotations

from typing import Any

from compare.adapters._keras_import import keras, tf
from compare.adapters.base import Made, Notes, Unsupported
from compare.core.registry import register_part
from compare.defaults import signature_default
from compare.formulas import LayerFormula
from compare.kinds.resample.spec import Resample

__all__ = ["TFResize2D", "build_resample", "resample_defaults"]

L = keras.layers
_UPSAMPLING: dict[int, Any] = {1: L.UpSampling1D, 2: L.UpSampling2D, 3: L.UpSampling3D}


@keras.saving.register_keras_serializable(package="compare")
class TFResize2D(keras.layers.Layer):
    """Resize channels-last images to ``size`` with TensorFlow's resize kernels as
    PyTorch reads them: ``method='bilinear'`` with ``align_corners``, or
    ``method='nearest'`` by the legacy rule ``floor(out * in / out_size)``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(3, dtype="float32").reshape(1, 1, 3, 1)
        >>> y = TFResize2D((1, 5), "bilinear", align_corners=True)(x)
        >>> np.asarray(y).ravel().tolist()
        [0.0, 0.5, 1.0, 1.5, 2.0]
    """

    def __init__(
        self, size: tuple[int, ...], method: str, align_corners: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if method not in ("bilinear", "nearest"):
            raise ValueError(f"method={method!r} must be 'bilinear' or 'nearest'")
        self.size, self.method, self.align_corners = tuple(size), method, bool(align_corners)

    def call(self, x: Any) -> Any:
        ops = tf.raw_ops
        op = ops.ResizeBilinear if self.method == "bilinear" else ops.ResizeNearestNeighbor
        y = op(
            images=x,
            size=list(self.size),
            align_corners=self.align_corners,
            half_pixel_centers=False,
        )
        return tf.cast(y, x.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], *self.size, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(size=list(self.size), method=self.method, align_corners=self.align_corners)
        return config


def _factors(formula: LayerFormula) -> tuple[int, ...] | None:
    """The integer factor per axis when every output size is a multiple of the input's."""
    pairs = list(zip(formula.input.size, formula.output.size))
    if all(o % n == 0 for n, o in pairs):
        return tuple(o // n for n, o in pairs)
    return None


@register_part("keras", "build", "resample")
def build_resample(layer: Resample, formula: LayerFormula, name: str, dtype: str) -> Made:
    """``UpSamplingND`` for integer factors, ``Resizing`` for other sizes, and
    ``TFResize2D`` where Keras' half-pixel resizes read other elements (bilinear with
    ``align_corners``, PyTorch's nearest to a size that is not a multiple).

    Example:
        >>> from compare.formulas import infer
        >>> from compare.spec import Input, Model
        >>> m = Model("m", Input(1, (4, 4)), (Resample(size=6, mode="nearest"),))
        >>> made = build_resample(m.layers[0], infer(m)[0], "r", "float32")
        >>> type(made[0][0]).__name__, made[2][0][0]
        ('TFResize2D', 'resize_kernel')
    """
    rank = formula.input.rank
    factors = _factors(formula)
    nearest = layer.mode in ("nearest", "nearest_exact")
    out = formula.output.size
    if factors is not None and not layer.align_corners and (nearest or rank == 2):
        arg: Any = factors[0] if rank == 1 else factors
        kwargs: dict[str, Any] = {"name": name, "dtype": dtype}
        if rank == 2:
            kwargs["interpolation"] = "nearest" if nearest else "bilinear"
        return [_UPSAMPLING[rank](arg, **kwargs)], {}, ()
    if rank != 2:
        raise Unsupported(
            f"Keras resizes {rank}-d inputs only by integer factors (UpSampling{rank}D), and "
            f"{formula.input.size} -> {out} is not one"
        )
    notes: Notes = ()
    if layer.mode == "nearest_exact" or (layer.mode == "bilinear" and not layer.align_corners):
        interpolation = "nearest" if nearest else "bilinear"
        made = L.Resizing(*out, interpolation=interpolation, name=name, dtype=dtype)
        return [made], {}, notes
    if layer.mode == "bilinear":
        note = (
            "Keras' resizes have no align_corners (half-pixel centres only); TensorFlow's "
            "ResizeBilinear(align_corners=True) in a Keras layer realises it"
        )
        made = TFResize2D(out, "bilinear", align_corners=True, name=name, dtype=dtype)
        return [made], {}, (("resize_kernel", note),)
    note = (
        f"PyTorch's nearest reads floor(out * in / out_size); Keras' 'nearest' reads "
        f"half-pixel centres, other elements for {formula.input.size} -> {out}; "
        "TensorFlow's ResizeNearestNeighbor(half_pixel_centers=False) in a Keras layer "
        "realises it"
    )
    made = TFResize2D(out, "nearest", name=name, dtype=dtype)
    return [made], {}, (("resize_kernel", note),)


@register_part("keras", "defaults", "resample")
def resample_defaults(layer: Resample, formula: LayerFormula) -> dict[str, Any]:
    """The default interpolation of the Keras layer the spec is built as:
    ``UpSampling2D``'s 'nearest' for a scale, ``Resizing``'s 'bilinear' for a size;
    ``align_corners`` is False (Keras has no such option).

    Example:
        >>> resample_defaults(Resample(size=3), None)
        {'mode': 'bilinear', 'align_corners': False}
        >>> resample_defaults(Resample(scale=2), None)
        {'mode': 'nearest', 'align_corners': False}
    """
    cls = L.UpSampling2D if layer.scale is not None else L.Resizing
    mode = signature_default(cls, "interpolation")
    if mode == "nearest" and layer.scale is None:
        mode = "nearest_exact"  # Resizing's nearest reads half-pixel centres
    return {"mode": mode, "align_corners": False}
