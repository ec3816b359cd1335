"""Every config key as a dotted path, so the documentation test can ask docs/config.md for each."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from queue_server.config.model import CentreConfig


def documented_keys(model: type[BaseModel] = CentreConfig, prefix: str = "") -> list[str]:
    """Every config key as a dotted path (lists shown as []), for the documentation test."""
    keys = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(path)
        for sub in _models_in(field.annotation):
            list_mark = "[]" if _is_list(field.annotation) else ""
            keys.extend(documented_keys(sub, f"{path}{list_mark}."))
    return keys


def _is_list(annotation: Any) -> bool:
    if getattr(annotation, "__origin__", None) is list:
        return True
    return any(_is_list(a) for a in getattr(annotation, "__args__", ()) or () if a is not type(None))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_models_in(arg))
    return out
