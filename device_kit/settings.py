"""Reading an agent's settings from the centre's config.yaml (a copy on the device's PC): the file as plain data,
or one clear SettingsError naming the file. The agents take the keys they need; the server validates the rest."""
from __future__ import annotations

from pathlib import Path

import yaml


class SettingsError(ValueError):
    """Settings an agent cannot start with; the message names the file or the key."""


def read_config_file(path: str | Path) -> dict:
    """The config file as a mapping of sections."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the file must be a mapping of sections")
    return data
