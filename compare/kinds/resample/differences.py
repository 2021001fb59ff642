"""Named differences and naive-port checks of the resample kind.

* ``align_corners``: PyTorch's bilinear with ``align_corners=True`` maps the corner
  pixels of input and output onto each other; Keras' ``UpSampling2D`` and ``Resizing``
  use half-pixel centres only. The naive port is Keras' own bilinear resize.
* ``nearest_rounding``: PyTorch's ``'nearest'`` reads ``floor(out * in / out_size)``,
  Keras' ``'nearest'`` (TensorFlow 2) ``floor((out + 0.5) * in / out_size)``; they read
  the same elements only when every output size is a multiple of the input's.
* ``default_mode``: ``nn.Upsample`` and ``UpSampling2D`` default to nearest,
  ``Resizing`` to bilinear; a port that leaves the mode out is measured.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compare.adapters import get_adapter
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, measured
from compare.naive import Context, NaiveResult, naive_twin
from compare.records import Difference

__all__ = ["align_corners_check", "default_mode_check", "nearest_rounding_check"]

register_part(ANY, "explain", "resample")(
    {
        "mode": (
            "how an output element reads the input; nn.Upsample and UpSampling2D default "
            "to nearest, Resizing to bilinear"
        ),
        "align_corners": (
            "PyTorch's bilinear can map the corner pixels onto each other "
            "(align_corners=True); Keras has half-pixel centres only"
        ),
    }
)


def _twin(ctx: Context, framework: str, **changes: Any) -> NaiveResult | None:
    return naive_twin(ctx, framework, dataclasses.replace(ctx.layer, **changes))  # type: ignore[arg-type]


def align_corners_check(ctx: Context) -> NaiveResult | None:
    """A bilinear ``align_corners=True`` resize ported as Keras' own bilinear resize
    (half-pixel centres).

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.resample.spec import Resample
        >>> layer = Resample(scale=2, mode="bilinear", align_corners=True)
        >>> err, detail = align_corners_check(context_of(Model("m", Input(1, (3, 3)), (layer,))))
        >>> err > 0.1, detail
        (True, 'Keras UpSampling2D(interpolation="bilinear"): half-pixel centres')
    """
    layer: Any = ctx.layer
    if getattr(layer, "mode", None) != "bilinear" or not layer.align_corners:
        return None
    result = _twin(ctx, "keras", align_corners=False)
    if result is None:
        return None
    err, why = result
    cls = 'UpSampling2D(interpolation="bilinear")' if layer.scale else "Resizing"
    return err, why or f"Keras {cls}: half-pixel centres"


def nearest_rounding_check(ctx: Context) -> NaiveResult | None:
    """A nearest resize to a size that is not a multiple of the input's, ported with
    the other framework's own 'nearest'.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.resample.spec import Resample
        >>> layer = Resample(size=(7, 5), mode="nearest")
        >>> err, detail = nearest_rounding_check(context_of(Model("m", Input(1, (5, 3)), (layer,))))
        >>> err > 0, detail
        (True, "Keras Resizing(interpolation='nearest'): half-pixel centres")
    """
    layer: Any = ctx.layer
    if layer.mode not in ("nearest", "nearest_exact") or layer.exact_multiple(ctx.formula.input):
        return None
    if layer.mode == "nearest":
        result = _twin(ctx, "keras", mode="nearest_exact")
        text = "Keras Resizing(interpolation='nearest'): half-pixel centres"
    else:
        result = _twin(ctx, "torch", mode="nearest")
        text = "PyTorch nn.Upsample(mode='nearest'): floor(out * in / out_size)"
    if result is None:
        return None
    err, why = result
    return err, why or text


def default_mode_check(ctx: Context) -> NaiveResult | None:
    """The mode left at a framework's own default, where it differs from the spec's.

    Example:
        >>> from compare.naive import context_of
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.resample.spec import Resample
        >>> ctx = context_of(Model("m", Input(1, (3, 3)), (Resample(size=5),)))
        >>> err, detail = default_mode_check(ctx)
        >>> err > 0, detail
        (True, "keras left at its default mode='bilinear' instead of 'nearest'")
    """
    layer: Any = ctx.layer
    for framework in ("keras", "torch"):
        default = get_adapter(framework).defaults(layer, ctx.formula).get("mode")
        if default == layer.mode or default not in ("nearest", "nearest_exact", "bilinear"):
            continue
        result = _twin(ctx, framework, mode=default, align_corners=False)
        if result is None:
            continue
        err, why = result
        text = f"{framework} left at its default mode={default!r} instead of {layer.mode!r}"
        return err, text + (f"; {why}" if why else "")
    return None


register_part(ANY, "naive_checks", "resample")(
    {
        "align_corners": align_corners_check,
        "nearest_rounding": nearest_rounding_check,
        "default_mode": default_mode_check,
    }
)


@register_part(ANY, "differences", "resample")
def resample_differences(facts: LayerFacts) -> list[Difference]:
    """``align_corners`` and ``nearest_rounding`` where they apply, with their naive
    ports' errors.

    Example:
        >>> from compare.formulas import infer
        >>> from compare.records import FrameworkLayer
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.resample.spec import Resample
        >>> layer = Resample(scale=2, mode="bilinear", align_corners=True)
        >>> m = Model("m", Input(1, (3, 3)), (layer,))
        >>> t, k = FrameworkLayer("torch", True), FrameworkLayer("keras", True)
        >>> [d.what for d in resample_differences(LayerFacts(m.layers[0], infer(m)[0], t, k, {}))]
        ['align_corners']
    """
    layer: Any = facts.layer
    out = []
    if layer.mode == "bilinear" and layer.align_corners:
        diff = Difference(
            "align_corners",
            "bilinear with align_corners=True reads input position out * (in - 1) / "
            "(out_size - 1); Keras' UpSampling2D and Resizing read half-pixel centres "
            "(out + 0.5) * in / out_size - 0.5 and have no such option",
            torch="align_corners=True",
            keras="half-pixel centres only",
        )
        out.append(measured(diff, facts.naive.get("align_corners")))
    if layer.mode in ("nearest", "nearest_exact") and not layer.exact_multiple(facts.formula.input):
        diff = Difference(
            "nearest_rounding",
            f"nearest to {facts.formula.output.size} from {facts.formula.input.size}: "
            "PyTorch's 'nearest' reads floor(out * in / out_size), Keras' 'nearest' "
            "(PyTorch's 'nearest-exact') floor((out + 0.5) * in / out_size): other elements "
            "where a size is not a multiple of the input's",
            torch="mode='nearest'" if layer.mode == "nearest" else "mode='nearest-exact'",
            keras="interpolation='nearest' (half-pixel)",
        )
        out.append(measured(diff, facts.naive.get("nearest_rounding")))
    return out
