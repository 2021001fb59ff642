"""The normalisation family, framework-free: ``batch_norm``, ``layer_norm``, ``group_norm``.

Conventions fixed here, once (each framework's own convention is a translation made
by its adapter and named in the layer's differences):

* ``momentum`` of a batch norm is the weight of the *new* batch statistic in the
  running average, ``running = (1 - momentum) * running + momentum * batch``
  (PyTorch's convention; Keras' ``momentum`` is ``1 - momentum``). Default 0.1.
* ``epsilon`` is added to the variance before the square root. Default 1e-5
  (PyTorch's default; Keras' is 1e-3).

A batch norm's running statistics are ``LayerFormula.state``, not ``params``: PyTorch
keeps them as buffers, Keras as non-trainable weights, and the reports reconcile both.

Example:
    >>> from compare.core.shapes import Shape
    >>> BatchNorm().formula((Shape(4, (5, 5)),)).state
    8
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from compare.core.layouts import WeightLayout, kernel_axes
from compare.core.registry import register_kind
from compare.core.shapes import LayerFormula, Shape, prod
from compare.core.validate import check_bool, check_float, check_int, fmt
from compare.core.work import Work, elements
from compare.errors import SpecError
from compare.spec import Layer

__all__ = ["LAYER_NORM_AXES", "NORM_ROLES", "BatchNorm", "GroupNorm", "LayerNorm"]

#: The weight roles of a normalisation layer.
NORM_ROLES = ("gamma", "beta", "moving_mean", "moving_variance")


@dataclass(frozen=True)
class _Norm(Layer):
    """Fields shared by the normalisation families."""

    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True

    def __post_init__(self) -> None:
        eps = check_float("epsilon", self.epsilon, 0.0, 1.0, closed_high=False)
        if eps <= 0:
            raise SpecError(f"epsilon={self.epsilon} must be > 0")
        object.__setattr__(self, "epsilon", eps)
        check_bool("center", self.center)
        check_bool("scale", self.scale)

    def layout(self, formula: LayerFormula, role: str) -> tuple[WeightLayout, dict[str, int]]:
        """One value per channel, (C,) in both frameworks; a layer norm over all axes
        holds one per element, (C, *S) in PyTorch and (*S, C) in Keras.

        Example:
            >>> n = LayerNorm(axes="all").resolved(2)
            >>> lay, sizes = n.layout(n.rule(Shape(3, (4, 5))), "gamma")
            >>> lay.torch, lay.keras, sizes
            (('C', 'H', 'W'), ('H', 'W', 'C'), {'C': 3, 'H': 4, 'W': 5})
        """
        if role not in NORM_ROLES:
            raise KeyError(f"no layout for role {role!r} of kind {self.kind!r}")
        shape = formula.input
        if getattr(self, "axes", "channels") == "all" and shape.rank:
            s = kernel_axes(shape.rank)
            sizes = {"C": shape.channels, **dict(zip(s, shape.size))}
            return WeightLayout(("C", *s), (*s, "C"), ("C", *s), (*s, "C")), sizes
        return WeightLayout(("C",), ("C",), ("C",), ("C",)), {"C": shape.channels}

    def work(self, formula: LayerFormula) -> Work:
        """No MACs: one normalising affine per element (listed as other work).

        Example:
            >>> from compare.spec import BatchNorm
            >>> bn = BatchNorm().resolved(2)
            >>> bn.work(bn.rule(Shape(4, (3, 3)))).other
            36
        """
        return Work(0, "0", other=elements(formula.output))


@register_kind
@dataclass(frozen=True)
class BatchNorm(_Norm):
    """Batch normalisation over the channel axis (rank taken from the input).

    ``momentum`` is PyTorch's convention (weight of the new batch statistic).

    Example:
        >>> BatchNorm(momentum=0.01).momentum
        0.01
    """

    momentum: float = 0.1
    kind: ClassVar[str] = "batch_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(
            self, "momentum", check_float("momentum", self.momentum, 0.0, 1.0, closed_high=True)
        )

    def rule(self, shape: Shape) -> LayerFormula:
        """gamma and beta per channel; the running mean and variance are ``state``.

        Example:
            >>> BatchNorm().rule(Shape(4, (5, 5))).expression
            '4*2 (gamma, beta) = 8; running mean, variance 4*2 = 8'
        """
        c = shape.channels
        params, names = _affine(self, c)
        text = _norm_text(c, names, params) + f"; running mean, variance {c}*2 = {2 * c}"
        return LayerFormula(params, text, shape, shape, state=2 * c)


#: ``axes`` of a layer norm: normalise over the channels only, or channels and space.
LAYER_NORM_AXES = ("channels", "all")


@register_kind
@dataclass(frozen=True)
class LayerNorm(_Norm):
    """Layer normalisation per sample over ``axes``: ``"channels"`` (Keras' default,
    one scale per channel) or ``"all"`` (channels and spatial axes, one scale per
    element: PyTorch's ``LayerNorm([C, H, W])``).

    Example:
        >>> LayerNorm(axes="all").axes
        'all'
    """

    axes: str = "channels"
    kind: ClassVar[str] = "layer_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.axes not in LAYER_NORM_AXES:
            raise SpecError(f"axes={fmt(self.axes)} must be 'channels' or 'all'")

    def rule(self, shape: Shape) -> LayerFormula:
        """gamma and beta per channel, or per element with ``axes="all"``.

        Example:
            >>> LayerNorm(axes="all").rule(Shape(3, (4, 5))).params
            120
        """
        n = shape.channels if self.axes == "channels" else shape.channels * prod(shape.size)
        params, names = _affine(self, n)
        return LayerFormula(params, _norm_text(n, names, params), shape, shape)


@register_kind
@dataclass(frozen=True)
class GroupNorm(_Norm):
    """Group normalisation: channels split into ``groups``, each normalised per sample
    over its channels and the spatial axes.

    Example:
        >>> GroupNorm(groups=2).groups
        2
    """

    groups: int = 0
    kind: ClassVar[str] = "group_norm"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("groups", self.groups, 1)

    def rule(self, shape: Shape) -> LayerFormula:
        """gamma and beta per channel; ``groups`` must divide the channels.

        Example:
            >>> GroupNorm(groups=2).rule(Shape(4, (3,))).params
            8
        """
        if shape.channels % self.groups:
            raise SpecError(f"groups={self.groups} must divide channels={shape.channels}")
        if shape.flattened_from is not None and 1 < self.groups < shape.channels:
            # Each framework groups consecutive features of its own flatten order.
            raise SpecError(
                f"groups={self.groups} on the {shape.channels} features of a flatten would "
                "group C,H,W-ordered features in PyTorch and H,W,C-ordered ones in Keras "
                "(different features per group); use groups=1, groups=channels, or "
                "normalise before the flatten"
            )
        params, names = _affine(self, shape.channels)
        return LayerFormula(params, _norm_text(shape.channels, names, params), shape, shape)


def _affine(layer: _Norm, n: int) -> tuple[int, list[str]]:
    names = [name for name, on in (("gamma", layer.scale), ("beta", layer.center)) if on]
    return n * len(names), names


def _norm_text(n: int, names: list[str], params: int) -> str:
    if not names:
        return "0 (no gamma, no beta)"
    return f"{n}*{len(names)} ({', '.join(names)}) = {params}"
