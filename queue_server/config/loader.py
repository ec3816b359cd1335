"""Reading config.yaml: YAML without base-60 numbers, pydantic validation, then the cross-checks; every
problem is reported once with its key path and, where the YAML gives it, its line."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from queue_server.config.checks import cross_check
from queue_server.config.model import CentreConfig


class ConfigError(Exception):
    """A config file that cannot be used; `problems` is a list of (key path, line or None, message)."""

    def __init__(self, source: str, problems: list[tuple[str, int | None, str]]):
        self.source = source
        self.problems = problems
        lines = []
        for path, line, msg in problems:
            where = f"{source}:{line}: " if line else f"{source}: "
            lines.append(f"{where}{path or '(top level)'}: {msg}")
        super().__init__("\n".join(lines))


def _line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the deepest YAML node along `loc` (keys and list indexes)."""
    node, line = root, None
    if node is not None:
        line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _loc_str(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when present
    """SafeLoader without YAML 1.1's base-60 numbers, so an unquoted 13:15 stays the text "13:15"."""


_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:int"]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int",
                              re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
                              list("-+0123456789"))


def parse_config(text: str, source: str = "config.yaml") -> CentreConfig:
    nodes: list = []

    def root() -> yaml.Node:  # the file's nodes, for the line of each problem: read again only when there is one
        if not nodes:
            nodes.append(yaml.compose(text, Loader=_Loader))
        return nodes[0]

    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(source, [("", mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [("", None, "the file must be a mapping of sections (centre, server, departments, ...)")])
    try:
        cfg = CentreConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("function-after",))))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append((_loc_str(loc), _line_of(root(), loc), msg))
        raise ConfigError(source, problems) from None
    cross = cross_check(cfg)
    if cross:
        raise ConfigError(source, [(_loc_str(loc), _line_of(root(), loc), msg) for loc, msg in cross])
    return cfg


def load_config(path: str | Path) -> CentreConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("", None, f"cannot read the file: {exc.strerror}")]) from None
    return parse_config(text, str(path))
