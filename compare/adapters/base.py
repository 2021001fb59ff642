"""The contract every framework adapter fulfils.

An adapter turns one resolved layer spec (plus the formula the oracle derived for
it) into real framework objects, runs them, and reads facts back. It knows nothing
about the other framework: porting and parity live in ``compare.parity`` and talk
to adapters only through this contract.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from compare.formulas import LayerFormula
from compare.spec import Layer

__all__ = ["Adapter", "Built", "LayerTables", "Notes", "Unsupported", "WeightFact"]

#: (what, text) pairs an adapter records about how it realised a spec.
Notes = tuple[tuple[str, str], ...]


class Unsupported(Exception):
    """The framework cannot express this spec; ``str()`` is the reason shown to users.

    Example:
        >>> str(Unsupported("Keras has no groups for transposed convolutions"))
        'Keras has no groups for transposed convolutions'
    """


@dataclass(frozen=True)
class WeightFact:
    """One weight as the framework holds it.

    Example:
        >>> WeightFact("weight", (8, 40, 3, 3), ("O", "I", "H", "W"), True).shape
        (8, 40, 3, 3)
    """

    name: str
    shape: tuple[int, ...]
    axes: tuple[str, ...]
    trainable: bool
    role: str | None = None


@dataclass
class Built:
    """A layer built by one framework: the object, its classes, and its weight roles.

    ``roles`` maps a neutral role name (``kernel``, ``bias``, ``depthwise_kernel`` ...)
    to whatever the adapter needs to read and write that weight.

    Example:
        >>> Built(framework="torch", obj=None, classes=("Conv2d",)).classes
        ('Conv2d',)
    """

    framework: str
    obj: Any
    classes: tuple[str, ...]
    roles: dict[str, Any] = field(default_factory=dict)
    notes: Notes = ()


class LayerTables:
    """An adapter's ``defaults`` and ``initialisers``, read from the tables of its
    ``*_layers`` module (``tables``: ``DEFAULTS`` by kind, and ``initialisers``). The
    module is imported on first use: it imports the adapter itself.

    Example:
        >>> from compare.adapters import get_adapter
        >>> from compare.formulas import infer
        >>> from compare.spec import Dense, Input, Model
        >>> m = Model("m", Input(4), (Dense(units=2),))
        >>> get_adapter("keras").defaults(m.layers[0], infer(m)[0])["use_bias"]
        True
    """

    tables: str

    def defaults(self, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
        """Spec field -> this framework's own default for it, in the spec's convention."""
        read = importlib.import_module(self.tables).DEFAULTS.get(layer.kind)
        return read(layer, formula) if read is not None else {}

    def initialisers(self, built: Built) -> dict[str, tuple[str, float | None]]:
        """Role -> (default initialiser, theoretical std) of a freshly built layer."""
        return importlib.import_module(self.tables).initialisers(built)


class Adapter(Protocol):
    """What ``compare`` needs from a framework.

    Example:
        >>> from compare.adapters import get_adapter
        >>> get_adapter("torch").name
        'torch'
    """

    name: str

    def build(
        self,
        layer: Layer,
        formula: LayerFormula,
        index: int,
        dtype: str,
        *,
        shape_only: bool = False,
    ) -> Built:
        """Build the faithful equivalent of ``layer``; raise ``Unsupported`` if impossible.

        ``shape_only``: real layer objects whose weights have shapes but no memory
        (nothing can run them; ``output_shape`` still can)."""
        ...

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        """The output shape the framework derives for ``input_shape`` (with a batch axis),
        without computing anything."""
        ...

    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Run ``x`` (this framework's layout, with a batch axis) through the layer,
        in inference mode unless ``training``."""
        ...

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """``run`` with role arrays (this framework's layout) in place of the layer's
        weights, leaving them untouched."""
        ...

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
        """Weights (name, shape, axes), trainable / non-trainable / buffer counts."""
        ...

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        """Role -> array in this framework's own layout."""
        ...

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        """Role -> shape of the array ``get_weights`` would give, without reading values."""
        ...

    def set_weights(self, built: Built, weights: dict[str, np.ndarray]) -> None:
        """Write role arrays (this framework's own layout) into the layer."""
        ...

    def clear(self) -> None:
        """Release global state the framework accumulates across models."""
        ...

    def seed(self, seed: int) -> None:
        """Seed the framework's own initialisers."""
        ...

    def defaults(self, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
        """Spec field -> the framework's own default (spec convention), from signatures."""
        ...

    def initialisers(self, built: Built) -> dict[str, tuple[str, float | None]]:
        """Role -> (default initialiser name, theoretical std)."""
        ...

    def assemble(
        self,
        builts: list[Built],
        input_shape: tuple[int, ...],
        dtype: str,
        input_dtype: str | None = None,
    ) -> Any:
        """One real model object (``nn.Module`` / ``keras.Model``) chaining the layers.

        ``input_dtype`` overrides the input's dtype (``"int64"`` for token ids)."""
        ...
