"""The diagnostics engines (naive checks, differences, defaults, state ranges) dispatch
through the registry: a kind registered from this file gets its own diagnostics, in
their fixed places, and the engines name no kind."""

import ast
import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest

from compare import comparison, defaults, naive
from compare.core import registry
from compare.core.registry import ANY, register_part
from compare.differences import LayerFacts, layer_differences
from compare.formulas import LayerFormula, Shape
from compare.records import DefaultValue, Difference, FrameworkLayer
from compare.spec import Layer

KIND = "throwaway_diagnostics"


@dataclasses.dataclass(frozen=True)
class Throwaway(Layer):
    level: float = 1.0
    kind: ClassVar[str] = KIND


def _own_kernel(ctx):
    return 1.0, "own"


def _extra(ctx):
    return 2.0, "extra"


@pytest.fixture
def throwaway():
    registry.register_kind(Throwaway)
    register_part(ANY, "naive_checks", KIND)({"kernel_layout": _own_kernel, "extra": _extra})
    register_part(ANY, "default_fields", KIND)(("level",))
    register_part(ANY, "state_ranges", KIND)({"gamma": (0.0, 1.0)})
    register_part(ANY, "explain", KIND)({"level": "how loud it is"})
    register_part(ANY, "spec_values", KIND)(lambda layer: {"volume": layer.level * 10})

    @register_part(ANY, "weight_differences", KIND)
    def weights(facts: LayerFacts) -> list[Difference]:
        return [Difference("own_weights", "mine")]

    @register_part(ANY, "differences", KIND)
    def before(facts: LayerFacts) -> list[Difference]:
        return [Difference("before_defaults", str(facts.naive["extra"][0]))]

    @register_part(ANY, "differences_after_defaults", KIND)
    def after(facts: LayerFacts) -> list[Difference]:
        return [Difference("after_defaults", "last")]

    yield
    registry.unregister_kind(KIND)


def test_a_kinds_checks_replace_the_generic_ones_of_their_name(throwaway):
    checks = naive.checks_for(KIND)
    assert list(checks) == ["kernel_layout", "padding", "default_level", "extra"]
    assert checks["kernel_layout"] is _own_kernel
    assert checks["padding"] is naive.GENERIC_CHECKS["padding"]
    assert checks["default_level"] is naive.framework_default("level")


def test_a_kinds_differences_come_in_their_fixed_places(throwaway):
    formula = LayerFormula(0, "0", Shape(3, (4,)), Shape(3, (4,)))
    torch = FrameworkLayer("torch", True, trainable_params=0, non_trainable_params=0)
    keras = FrameworkLayer("keras", True, trainable_params=1, non_trainable_params=0)
    notes = {"keras": (("padding", "cropped"),)}
    rows = (DefaultValue("level", 1.0, 0.5, 2.0, True, False),)
    diffs = layer_differences(Throwaway(), formula, torch, keras, notes, {"extra": (2.0, "")}, rows)
    assert [d.what for d in diffs] == [
        "own_weights",
        "activation_layout",
        "padding",
        "before_defaults",
        "default_level",
        "after_defaults",
        "params_count",
    ]
    assert diffs[3].detail == "2.0"
    assert "(spec convention): how loud it is;" in diffs[4].detail


def test_defaults_and_state_ranges_by_kind(throwaway):
    assert defaults.explanation(KIND, "level") == "how loud it is"
    assert defaults.spec_values(Throwaway(level=0.5))["volume"] == 5.0
    assert comparison.state_ranges(KIND) == {"gamma": (0.0, 1.0)}
    assert comparison.state_ranges("no_such_kind") == {}


def test_built_in_kinds_register_their_diagnostics():
    assert "training_mode" in naive.checks_for("batch_norm")
    assert naive.checks_for("conv_transpose")["padding"].__name__ == "transpose_padding"
    assert defaults.explanation("avg_pool", "count_include_pad")
    assert set(comparison.state_ranges("group_norm")) == {
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    }


ENGINES = ("naive.py", "differences.py", "defaults.py", "comparison.py")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_diagnostics_engines_name_no_kind(engine):
    """No string literal outside docstrings is a kind's name, and no spec class but the
    generic ones is imported."""
    tree = ast.parse((Path(__file__).parents[1] / "compare" / engine).read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # "activation" is also the conv and dense kinds' activation field
    kinds = set(registry.kinds()) - {"activation"}
    named = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and id(node) not in docstrings and node.value in kinds
    }
    assert not named
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "compare.spec"
        for alias in node.names
    }
    assert imported <= {"Layer", "Model", "Input"}
