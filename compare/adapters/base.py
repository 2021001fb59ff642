"""The contract every framework adapter fulfils.

An adapter turns one resolved layer spec (plus the formula the oracle derived for
it) into real framework objects, runs them, and reads facts back. It knows nothing
about the other framework: porting and parity live in ``compare.parity`` and talk
to adapters only through this contract.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from compare.adapters import parts
from compare.core.graph import Graph
from compare.formulas import LayerFormula
from compare.records import Facts, WeightFact
from compare.spec import Layer

__all__ = ["Adapter", "Built", "KindDefaults", "Made", "Notes", "Unsupported", "WeightFact"]

#: (what, text) pairs an adapter records about how it realised a spec.
Notes = tuple[tuple[str, str], ...]

#: What a kind's ``"build"`` part returns: the framework object(s), role -> reference,
#: and notes. PyTorch: ``(nn.Module, {role: (module, attribute)}, notes)`` from
#: ``build(layer, formula)``; Keras: ``([layer, ...], {role: (layer, attribute, shape or
#: None)}, notes)`` from ``build(layer, formula, name, dtype)``.
Made = tuple[Any, dict[str, Any], Notes]


class Unsupported(Exception):
    """The framework cannot express this spec; ``str()`` is the reason shown to users.

    Example:
        >>> str(Unsupported("Keras has no groups for transposed convolutions"))
        'Keras has no groups for transposed convolutions'
    """


@dataclass
class Built:
    """A layer built by one framework: the object, its classes, and its weight roles.

    ``roles`` maps a neutral role name (``kernel``, ``bias``, ``depthwise_kernel`` ...)
    to whatever the adapter needs to read and write that weight; ``kind`` is the spec's
    kind it was built for (empty for a user's own layers read by an importer).
    ``adopted``: the objects are the user's own layers, taken for this spec's build
    (``KerasAdapter.adopt``), not built by compare; they must be left as found.

    Example:
        >>> Built(framework="torch", obj=None, classes=("Conv2d",)).classes
        ('Conv2d',)
    """

    framework: str
    obj: Any
    classes: tuple[str, ...]
    roles: dict[str, Any] = field(default_factory=dict)
    notes: Notes = ()
    kind: str = ""
    adopted: bool = False


class KindDefaults:
    """An adapter's ``defaults``: the ``"defaults"`` part its framework module of the
    layer's family registers (``compare.core.registry``), or nothing.

    Example:
        >>> from compare.adapters import get_adapter
        >>> from compare.formulas import infer
        >>> from compare.spec import Dense, Input, Model
        >>> m = Model("m", Input(4), (Dense(units=2),))
        >>> get_adapter("keras").defaults(m.layers[0], infer(m)[0])["use_bias"]
        True
    """

    name: str

    def defaults(self, layer: Layer, formula: LayerFormula) -> dict[str, Any]:
        """Spec field -> this framework's own default for it, in the spec's convention."""
        read = parts.find(self.name, "defaults", layer.kind)
        return read(layer, formula) if read is not None else {}


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
        blank: bool = False,
    ) -> Built:
        """Build the faithful equivalent of ``layer``; raise ``Unsupported`` if impossible.

        ``shape_only``: real layer objects whose weights have shapes but no memory
        (nothing can run them; ``output_shape`` still can). ``blank``: weights filled
        with zeros instead of drawn by the initialisers, for a caller that writes every
        weight next (an import); the layer's initialiser objects are left as built."""
        ...

    def output_shape(
        self, built: Built, input_shape: tuple[int, ...], dtype: str
    ) -> tuple[int, ...]:
        """The output shape the framework derives for ``input_shape`` (with a batch axis),
        without computing anything; ``dtype`` is the input's (``"int64"`` for token ids)."""
        ...

    def run(self, built: Built, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        """Run ``x`` (this framework's layout, with a batch axis) through the layer,
        in inference mode unless ``training``."""
        ...

    def run_with(self, built: Built, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """``run`` with role arrays (this framework's layout) in place of the layer's
        weights, leaving them untouched."""
        ...

    def trained_state(self, built: Built, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every role array as one training-mode batch ``x`` leaves it (a batch norm's
        running statistics move), the layer itself left as it was."""
        ...

    def facts(self, built: Built, layer: Layer, formula: LayerFormula) -> Facts:
        """Weights (name, shape, axes), trainable / non-trainable / buffer counts."""
        ...

    def get_weights(self, built: Built) -> dict[str, np.ndarray]:
        """Role -> array in this framework's own layout."""
        ...

    def weight_views(self, built: Built) -> dict[str, np.ndarray]:
        """Role -> read-only array over the layer's own memory, no copy: to be read
        before the layer is next written (a write in place may show through)."""
        ...

    def weight_shapes(self, built: Built) -> dict[str, tuple[int, ...]]:
        """Role -> shape of the array ``get_weights`` would give, without reading values."""
        ...

    def set_weights(
        self, built: Built, weights: dict[str, np.ndarray], *, take: Collection[str] = ()
    ) -> None:
        """Write role arrays (this framework's own layout) into the layer. ``take``:
        roles whose arrays the caller gives away (nothing else refers to them); the
        layer may keep those as its storage instead of copying them."""
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
        graph: Graph | None = None,
    ) -> Any:
        """One real model object (``nn.Module`` / ``keras.Model``) of the layers, wired
        as ``graph`` says (a chain when None; layer i is node i).

        ``input_dtype`` overrides the input's dtype (``"int64"`` for token ids)."""
        ...
