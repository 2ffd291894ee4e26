"""Reading YAML files into pydantic models with errors a lab engineer can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
#: Keys whose values an error message must never echo.
_SECRET_WORDS = ("password", "secret", "token", "key")


class InventoryError(ValueError):
    """A file does not say what the harness needs; the message names the file, the key and the expectation."""


def load_yaml(path: Path) -> Any:
    """Parse ``path`` as YAML; a syntax error names the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryError(f"{path}: no such file") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise InventoryError(f"{path}: not valid YAML at {where}: {exc.problem}") from None


def key_path(loc: tuple[int | str, ...], prefix: str = "", tags: frozenset[str] = frozenset()) -> str:
    """Render a pydantic location as ``msft.tenant.users[2].upn`` (dropping discriminated-union ``tags``)."""
    out = prefix
    for part in loc:
        if part in tags:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def validate(model: type[M], data: Any, path: Path, prefix: str = "", tags: frozenset[str] = frozenset()) -> M:
    """Validate ``data`` (found at ``prefix`` in ``path``) as ``model``, naming every bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            got = err.get("input")
            secret = any(w in str(part).lower() for part in err["loc"] for w in _SECRET_WORDS)
            shown = "" if isinstance(got, dict | list) or secret else f" (got {got!r})"
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {key_path(err['loc'], prefix, tags)}: {message}{shown}")
        raise InventoryError("\n".join(lines)) from None


def section(data: Any, key: str, path: Path, parent: str = "") -> Any:
    """The value under ``key`` of the mapping found at ``parent`` in a parsed file, or a clear error."""
    where = parent or "(top level)"
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: {where}: expected a mapping, got {type(data).__name__}")
    if key not in data:
        full = f"{parent}.{key}" if parent else key
        raise InventoryError(f"{path}: {full}: missing (expected a '{key}:' section)")
    return data[key]
