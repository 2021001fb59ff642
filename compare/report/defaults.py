"""The defaults and initialisers tables, as header + rows of strings for any renderer.

Example:
    >>> defaults_table(ModelResult("empty", None, ()))[1]
    []
"""

from __future__ import annotations

from typing import Any

from compare.records import ModelResult

__all__ = ["defaults_table", "initialisers_table"]

DEFAULTS_HEADER = ["#", "kind", "hyperparameter", "spec", "torch default", "keras default", ""]
INITIALISERS_HEADER = ["#", "role", "torch: init, std / measured", "keras: init, std / measured"]


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _std(value: float | None) -> str:
    return "?" if value is None else f"{value:.3g}"


def defaults_table(model: ModelResult) -> tuple[list[str], list[list[str]]]:
    """One row per hyperparameter of every layer with a defaults record.

    The last column flags a difference between the frameworks' defaults
    (``differs``) and a value the user set (``set``).

    Example (Keras' momentum 0.99 is 0.01 in the spec's, PyTorch's, convention):
        >>> from compare.comparison import compare_model
        >>> from compare.spec import Input, Model
        >>> from compare.kinds.norm.spec import BatchNorm
        >>> result = compare_model(Model("bn", Input(3, (4, 4)), (BatchNorm(),)), parity=False)
        >>> defaults_table(result)[1][0]
        ['0', 'batch_norm', 'momentum', '0.1', '0.1', '0.01', 'differs']
    """
    rows = []
    for layer in model.layers:
        for d in layer.defaults:
            flags = ", ".join(
                flag for flag, on in (("differs", d.differs), ("set", d.user_set)) if on
            )
            rows.append(
                [
                    str(layer.index),
                    layer.kind,
                    d.name,
                    _value(d.spec),
                    _value(d.torch),
                    _value(d.keras),
                    flags,
                ]
            )
    return DEFAULTS_HEADER, rows


def initialisers_table(model: ModelResult) -> tuple[list[str], list[list[str]]]:
    """One row per weight role: each framework's default initialiser, its theoretical
    std and the std measured on the freshly built layer.

    Example:
        >>> initialisers_table(ModelResult("empty", None, ()))[0][1]
        'role'
    """
    rows = []
    for layer in model.layers:
        by_role: dict[str, dict[str, str]] = {}
        for init in layer.initialisers:
            text = f"{init.name}, {_std(init.std)} / {_std(init.measured_std)}"
            by_role.setdefault(init.role, {})[init.framework] = text
        for role, cells in by_role.items():
            rows.append([str(layer.index), role, cells.get("torch", "-"), cells.get("keras", "-")])
    return INITIALISERS_HEADER, rows
