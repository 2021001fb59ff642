"""The kind registry: every kind known once, duplicates refused, engines free of kind names."""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass
from typing import ClassVar

import pytest

from compare.core import registry
from compare.core.registry import RegistryError, register_kind, register_part
from compare.errors import SpecError
from compare.spec import Layer, model_from_dict

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "compare"


def test_every_built_in_kind_is_registered_by_its_own_family_package():
    kinds = registry.kinds()
    # 19 kinds of the first release, 7 merges, multi_head_attention, resample,
    # channel_shuffle, channel_slice, prelu, spatial_dropout, stochastic_depth,
    # rescaling and normalization, position_embedding, each from a
    # compare.kinds.<family>.spec
    assert len(kinds) == 36
    assert {"multi_head_attention", "resample", "channel_shuffle", "prelu"} <= set(kinds)
    assert "position_embedding" in kinds
    for name, cls in kinds.items():
        assert cls.kind == name
        assert cls.__module__.startswith("compare.kinds.") and cls.__module__.endswith(".spec")


def test_explicit_rank_spellings_resolve_to_their_kind():
    assert registry.spelling("conv2d") == ("conv", 2)
    assert registry.spelling("conv3d_transpose") == ("conv_transpose", 3)
    assert registry.spelling("depthwise_conv1d") == ("depthwise_conv", 1)
    assert registry.spelling("dense") is None


def test_a_second_registration_of_a_kind_is_an_error_not_an_overwrite():
    @dataclass(frozen=True)
    class Imposter(Layer):
        kind: ClassVar[str] = "conv"

    before = registry.kind_class("conv")
    with pytest.raises(RegistryError, match="kind 'conv' is registered twice"):
        register_kind(Imposter)
    assert registry.kind_class("conv") is before


def test_a_spelling_taken_by_another_kind_is_refused():
    @dataclass(frozen=True)
    class Clash(Layer):
        kind: ClassVar[str] = "test_clash"
        spellings: ClassVar[dict[str, int]] = {"conv2d": 2}

    with pytest.raises(RegistryError, match="spelling 'conv2d' of 'test_clash'"):
        register_kind(Clash)
    assert "test_clash" not in registry.kinds()


def test_a_second_registration_of_a_framework_part_is_refused():
    def first() -> None: ...

    def second() -> None: ...

    register_part("test_fw", "build", "test_part_kind")(first)
    try:
        with pytest.raises(RegistryError, match="test_fw build for 'test_part_kind'"):
            register_part("test_fw", "build", "test_part_kind")(second)
        assert registry.part("test_fw", "build", "test_part_kind") is first
    finally:
        registry.unregister_kind("test_part_kind")


def test_a_missing_part_names_the_kind_and_the_part():
    with pytest.raises(RegistryError, match="kind 'dense' registers no torch no_such"):
        registry.part("torch", "no_such", "dense")


def test_a_throwaway_kind_from_a_test_file_loads_from_a_spec_file():
    @register_kind
    @dataclass(frozen=True)
    class Twice(Layer):
        """Doubles its input (a throwaway kind for this test)."""

        factor: int = 2
        kind: ClassVar[str] = "test_twice"

        def rule(self, shape):  # type: ignore[no-untyped-def]
            from compare.core.shapes import LayerFormula

            return LayerFormula(0, "0", shape, shape)

    try:
        model = model_from_dict(
            {"name": "t", "input": {"channels": 2, "size": [3]}, "layers": [{"kind": "test_twice"}]}
        )
        assert type(model.layers[0]) is Twice
        assert model.formulas[0].output.channels == 2
        with pytest.raises(SpecError, match="unknown field 'factr'"):
            model_from_dict(
                {
                    "name": "t",
                    "input": {"channels": 2},
                    "layers": [{"kind": "test_twice", "factr": 3}],
                }
            )
    finally:
        registry.unregister_kind("test_twice")
    assert "test_twice" not in registry.kinds()


#: Every module outside the kinds' folders and the public API (compare/__init__.py).
ENGINES = sorted(
    str(path.relative_to(PACKAGE))
    for path in PACKAGE.rglob("*.py")
    if "kinds" not in path.relative_to(PACKAGE).parts and path != PACKAGE / "__init__.py"
)
#: Kind names that are also field names (the conv and dense kinds' ``activation``).
FIELD_NAMES = {"activation"}


@pytest.mark.parametrize("engine", ENGINES)
def test_no_module_outside_the_kinds_names_a_kind(engine):
    names = {cls.__name__ for cls in registry.kinds().values()}
    kinds = set(registry.kinds()) - FIELD_NAMES
    found = []
    tree = ast.parse((PACKAGE / engine).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            found.append(f"{node.lineno}: {node.id}")
        if isinstance(node, ast.alias) and node.name in names:
            found.append(f"{node.lineno}: import {node.name}")
        if isinstance(node, ast.Constant) and node.value in kinds:
            found.append(f"{node.lineno}: {node.value!r}")
    assert found == []
