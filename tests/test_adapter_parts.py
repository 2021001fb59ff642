"""The adapters are generic engines: every kind's framework parts come from its family's
``compare/kinds/<family>/{torch,keras}.py`` through the registry, and the engine modules
name no kind."""

from __future__ import annotations

import ast
import pathlib

import pytest

from compare.adapters import parts
from compare.core import registry

KINDS = registry.kinds()

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENGINE = [
    "compare/adapters/base.py",
    "compare/adapters/parts.py",
    "compare/adapters/torch.py",
    "compare/adapters/torch_modules.py",
    "compare/adapters/torch_defaults.py",
    "compare/adapters/keras.py",
    "compare/adapters/keras_modules.py",
    "compare/adapters/keras_defaults.py",
]


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_registers_a_builder_in_its_family(kind, framework):
    make = parts.find(framework, "build", kind)
    assert make is not None
    assert make.__module__.startswith("compare.kinds.") and make.__module__.endswith(framework)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_one_family_realises_the_post_activation(framework):
    assert parts.only(framework, "post_activation").__module__.startswith("compare.kinds.")


def _strings(path: pathlib.Path) -> set[str]:
    """Every string literal of a module except its docstrings."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    }


@pytest.mark.parametrize("module", ENGINE)
def test_the_adapter_engine_names_no_kind(module):
    named = _strings(ROOT / module) & set(KINDS)
    assert not named, f"{module} names the kinds {sorted(named)}"
