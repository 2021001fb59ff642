"""The built-in catalogue: spec files shipped with the package.

Example:
    >>> [p.name for p in catalog_files()][:1]
    ['seed.toml']
"""

from __future__ import annotations

from pathlib import Path

from compare.spec import Model

__all__ = ["CATALOG", "EXPECTED_UNSUPPORTED", "catalog_files", "seed_model"]

#: The catalogue's files, in report order.
CATALOG = (
    "seed.toml",
    "conv_zoo.toml",
    "differences.toml",
    "classics.toml",
    "layers.toml",
    "recurrent.toml",
    "resampling.toml",
    "stems.toml",
    "activations.toml",
    "graphs.toml",
    "attention.toml",
)

#: Catalogue models that show on purpose what a framework refuses:
#: model name -> the framework expected to report the model as unsupported.
EXPECTED_UNSUPPORTED: dict[str, str] = {
    "keras_strides_dilation": "keras",
    "keras_transpose_groups": "keras",
    "keras_transpose_dilation": "keras",
    "gru_reset_before": "torch",
    "keras_key_dim_per_head": "torch",
    "prelu_per_element": "torch",
}


def catalog_files() -> list[Path]:
    """Paths of the built-in spec files that exist, in report order.

    Example:
        >>> catalog_files()[0].suffix
        '.toml'
    """
    here = Path(__file__).parent
    return [here / name for name in CATALOG]


def seed_model() -> Model:
    """28x28x1 -> Conv(40, 3x3) -> Conv(8, 3x3) -> Flatten -> Dense(10).

    Example:
        >>> [layer.kind for layer in seed_model().layers]
        ['conv', 'conv', 'flatten', 'dense']
    """
    from compare.specfile import load

    return load(catalog_files()[0])[0]
