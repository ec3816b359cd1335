"""The `qms` console script. For `qms serve`, the green-thread library patches the standard library
before anything else is imported (pydantic, Flask, sqlite3 users), as eventlet and gevent require."""
from __future__ import annotations

import sys


def _mode_from_argv(argv: list[str]) -> str:
    mode, config = None, "config.yaml"
    for i, arg in enumerate(argv):
        if arg.startswith("--async-mode="):
            mode = arg.split("=", 1)[1]
        elif arg == "--async-mode" and i + 1 < len(argv):
            mode = argv[i + 1]
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        elif arg == "--config" and i + 1 < len(argv):
            config = argv[i + 1]
    if mode is None:
        import yaml

        try:
            with open(config, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
            mode = (data.get("server") or {}).get("async_mode", "eventlet")
        except (OSError, yaml.YAMLError, AttributeError):
            mode = "eventlet"  # serve() reports a bad file in full
    return mode if mode in ("eventlet", "gevent") else "eventlet"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        from queue_server.cli.serve import patch

        mode = _mode_from_argv(argv[1:])
        patch(mode)
        if not any(a.startswith("--async-mode") for a in argv):
            argv = [*argv, "--async-mode", mode]
    from queue_server.cli.commands import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
