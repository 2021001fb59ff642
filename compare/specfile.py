"""Spec files (TOML, JSON, YAML with the safe loader) -> validated ``Model`` specs.

A file holds one model (a table with ``layers``), a list of models, or
``models = [...]``. Parse errors name the file and the line the parser reports;
model errors name the file, the model and the layer. A file is read up to
``compare.limits.max_spec_bytes()`` and its parsed data checked by
``compare.limits.check_tree`` (depth, values, strings, int64, string keys) before any
model is built, so hostile data ends as a ``SpecFileError``, never another exception.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compare import limits
from compare.errors import QUOTE_LIMIT, SpecError, SpecFileError
from compare.spec import Model, model_from_dict

__all__ = ["load", "load_lenient", "parse_text"]

FORMATS = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _parse(text: str, fmt: str, where: str) -> Any:
    try:
        data = _parse_format(text, fmt, where)
    except RecursionError:
        raise SpecFileError(
            f"{where}: invalid {fmt.upper()}: tables and lists nest deeper than the parser "
            f"can follow (a spec needs 4 levels; at most {limits.MAX_DEPTH} are accepted)"
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a 5,000-digit integer
        if isinstance(exc, SpecError):
            raise
        detail = " ".join(str(exc).split())[: 2 * QUOTE_LIMIT]
        raise SpecFileError(f"{where}: invalid {fmt.upper()}: {detail}") from exc
    try:
        limits.check_tree(data)
    except SpecError as exc:
        raise SpecFileError(f"{where}: {exc}") from None
    return data


def _parse_format(text: str, fmt: str, where: str) -> Any:
    if fmt == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"\(at line (\d+)", str(exc))
            line = f":{match.group(1)}" if match else ""
            raise SpecFileError(f"{where}{line}: invalid TOML: {exc}") from exc
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecFileError(f"{where}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    import yaml  # imported only for YAML files

    # libyaml's safe loader when present: the same documents, many times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # a safe loader: no tags that build objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecFileError(f"{where}{line}: invalid YAML: {problem}") from exc


def _model_entries(data: Any, where: str) -> list[Any]:
    if isinstance(data, Mapping) and "models" in data:
        entries = data["models"]
        if not isinstance(entries, list) or not entries:
            raise SpecFileError(f"{where}: 'models' must be a non-empty list of model tables")
        return entries
    if isinstance(data, Mapping) and "layers" in data:
        return [data]
    if isinstance(data, list) and data:
        return data
    raise SpecFileError(
        f"{where}: expected a model (a table with 'layers') or a list 'models' of them"
    )


def parse_text(text: str, fmt: str, where: str = "<string>") -> list[Model | SpecError]:
    """Parse spec text; file-level problems raise, per-model problems are returned.

    Example:
        >>> [m.name for m in parse_text('{"name": "n", "input": {"channels": 1, "size": [4]},'
        ...                             ' "layers": [{"kind": "flatten"}]}', "json")]
        ['n']
    """
    data = _parse(text, fmt, where)
    out: list[Model | SpecError] = []
    for number, entry in enumerate(_model_entries(data, where)):
        default = f"{Path(where).stem}[{number}]"
        name = entry.get("name", default) if isinstance(entry, Mapping) else default
        name = name if isinstance(name, str) else default
        try:
            out.append(model_from_dict(entry, default_name=default))
        except SpecError as exc:
            err = SpecError(f"{where}: {exc}")
            err.model_name = str(name)  # type: ignore[attr-defined]
            err.__cause__ = exc
            out.append(err)
    return out


def _read(path: str | os.PathLike[str], where: str | None = None) -> tuple[str, str, str]:
    where = str(path) if where is None else where
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SpecFileError(
            f"{where}: unknown spec file type {suffix or '(none)'!r}; "
            "use .toml, .json, .yaml or .yml"
        )
    try:
        limit = limits.max_spec_bytes()
    except SpecError as exc:
        raise SpecFileError(f"{where}: {exc}") from None
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)  # never more than the limit is read
        if len(data) > limit:
            raise SpecFileError(
                f"{where}: larger than {limit:,} bytes, the most a spec file may hold; set "
                f"{limits.SPEC_BYTES_ENV} to a larger number of bytes to read it"
            )
        text = data.decode("utf-8")
    except FileNotFoundError as exc:
        raise SpecFileError(f"{where}: no such file") from exc
    except IsADirectoryError as exc:
        raise SpecFileError(f"{where}: is a directory, not a spec file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecFileError(f"{where}: cannot read: {exc}") from exc
    return text, FORMATS[suffix], where


def load_lenient(
    path: str | os.PathLike[str], *, where: str | None = None
) -> list[Model | SpecError]:
    """Models of a spec file, each bad model replaced by its ``SpecError``.

    Raises ``SpecFileError`` only when the file itself cannot be read or parsed.
    Messages name the file as ``where`` (default: ``path`` as given).

    Example:
        >>> from compare.catalog import catalog_files
        >>> all(isinstance(m, Model) for m in load_lenient(catalog_files()[0]))
        True
    """
    text, fmt, shown = _read(path, where)
    return parse_text(text, fmt, shown)


def load(path: str | os.PathLike[str]) -> list[Model]:
    """Models of a spec file; the first invalid model raises its ``SpecError``.

    Example:
        >>> from compare.catalog import catalog_files
        >>> load(catalog_files()[0])[0].name
        'seed'
    """
    models = []
    for item in load_lenient(path):
        if isinstance(item, SpecError):
            raise item
        models.append(item)
    return models
