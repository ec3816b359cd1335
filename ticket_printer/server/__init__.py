"""The ticket machines' server part: the kiosk page and its procedure search, the ticket status page and the
booking pages for phones, print jobs (printed by the server or handed to a kiosk's printer agent) and the printer
agents' room.

Plugged into the server by `init_app(app, ctx)` (the contract in docs/architecture.md); the agent part
(`ticket_printer/agent/`) never imports this package.
"""
from __future__ import annotations


def init_app(app, ctx):
    """Register the kiosk's and printing's routes and events; return what starts the printers' watch."""
    from ticket_printer.server.booking_page import bp as booking_page_bp
    from ticket_printer.server.kiosk import bp as kiosk_bp
    from ticket_printer.server.print_routes import install

    app.register_blueprint(kiosk_bp)
    app.register_blueprint(booking_page_bp)  # the phone's booking pages, with the kiosk's templates and static files
    return install(app, ctx).start


def add_commands(sub, load, default_config: str) -> None:
    """The ticket machines' `qms` commands: import-procedures and dispenser. `load(path)` reads a config file
    (exiting with its errors on a bad one)."""
    ip = sub.add_parser("import-procedures", help="replace the procedure catalogue from a CSV or YAML file "
                                                  "(every bad row is reported by line; nothing is imported on error)")
    ip.add_argument("file")
    ip.add_argument("--check", action="store_true", help="check the file only, import nothing")
    ip.add_argument("--config", default=default_config)
    ip.add_argument("--db", help="database file (default: server.db_path of the config)")
    ip.set_defaults(fn=lambda args: _import_procedures(load(args.config), args))

    dp = sub.add_parser("dispenser", help="run a push-button ticket dispenser (devices.dispensers) on its serial port")
    dp.add_argument("dispenser_id")
    dp.add_argument("--server", help="server address (default: http://127.0.0.1:<server.port>)")
    dp.add_argument("--config", default=default_config)
    dp.set_defaults(fn=lambda args: _dispenser(load(args.config), args))


def _import_procedures(config, args) -> int:
    from ticket_printer.server.catalogue_store import cli_import

    return cli_import(config, args.db, args.file, check_only=args.check)


def _dispenser(config, args) -> int:
    from ticket_printer.agent.dispenser import run_cli

    return run_cli(config, args.dispenser_id, server=args.server)
