"""The procedure catalogue in the database: an import replaces it in one transaction; searches use an index
kept in memory and rebuilt when the catalogue changed (also by the CLI, in another process).

The rows are the store's (queue_server/store/procedures.py); this module parses files and searches.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from queue_server.store import procedures as procedure_rows

from ticket_printer.server.catalogue import CatalogueError, CatalogueIndex, Procedure, RowProblem, decode, format_of, parse

log = logging.getLogger(__name__)


def service_map(config) -> dict[str, str]:
    """service id -> department id, what the parser checks rows against."""
    return {sid: d.id for sid, (d, _s) in config.services().items()}


def read_catalogue(path: str | Path, config) -> list[Procedure]:
    """Read and check a catalogue file against the config. Raises CatalogueError (every bad row by line)."""
    path = Path(path)
    fmt = format_of(path.name)
    if fmt is None:
        raise CatalogueError(str(path), [RowProblem(None, "the file name must end in .csv, .yaml or .yml")])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(str(path), [RowProblem(None, f"cannot read the file: {exc.strerror}")]) from None
    return parse(decode(data, str(path)), fmt, service_map(config), str(path))


class ProcedureStore:
    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._index: CatalogueIndex | None = None
        self._version: str | None = None

    # ------------------------------------------------------------ writing
    def replace(self, procedures: list[Procedure], *, source: str, actor: str, only_if_empty: bool = False) -> dict | None:
        """Replace the whole catalogue in one transaction and log `catalogue.imported`. With `only_if_empty`,
        do nothing (None) when a catalogue is already there (checked inside the transaction)."""
        per_service: dict[str, int] = {}
        for p in procedures:
            per_service[p.service] = per_service.get(p.service, 0) + 1
        return procedure_rows.replace_all(
            self.store, [(p.code, p.name, p.name_en, p.field, p.department, p.service, p.processing_time, p.fee,
                          p.agency, p.level, p.field_en, p.processing_time_en, p.fee_en, p.elsewhere, p.elsewhere_en)
                         for p in procedures],
            data={"source": source, "services": len(per_service)}, actor=actor, only_if_empty=only_if_empty)

    def import_file(self, path: str | Path, *, actor: str, only_if_empty: bool = False) -> dict | None:
        procedures = read_catalogue(path, self.store.config)
        return self.replace(procedures, source=Path(path).name, actor=actor, only_if_empty=only_if_empty)

    # ------------------------------------------------------------ reading
    def count(self) -> int:
        return procedure_rows.count(self.store)

    def version(self) -> str:
        return procedure_rows.version(self.store)

    def all(self) -> list[Procedure]:
        rows = procedure_rows.all_rows(self.store)
        plain = ("code", "name", "name_en", "field", "processing_time", "fee", "agency", "level", "field_en",
                 "processing_time_en", "fee_en", "elsewhere", "elsewhere_en")
        return [Procedure(department=r["department_id"], service=r["service_id"], **{k: r[k] for k in plain})
                for r in rows]

    def index(self) -> CatalogueIndex:
        """The search index of the current catalogue; rebuilt only when an import changed it."""
        version = self.version()
        with self._lock:
            if self._index is None or version != self._version:
                names = {sid: f"{s.name} {s.name_en}" for sid, (_d, s) in self.store.config.services().items()}
                self._index = CatalogueIndex(self.all(), names)
                self._version = version
            return self._index


def import_on_start(procedures: ProcedureStore, config) -> None:
    """catalogue.file is imported when the catalogue is empty (catalogue.import_when_empty). A bad file is
    logged with every bad row and imports nothing; the server starts anyway."""
    cat = config.catalogue
    if not cat.file or not cat.import_when_empty:
        return
    try:
        if procedures.count():
            return
        got = procedures.import_file(cat.file, actor="system", only_if_empty=True)
    except CatalogueError as exc:
        log.error("catalogue.file was not imported:\n%s", exc)
        return
    if got is not None:
        log.info("imported %d procedures from %s", got["count"], cat.file)


def cli_import(config, db_path: str | None, file: str, *, check_only: bool = False, out=None, err=None) -> int:
    """`qms import-procedures FILE`: 0 imported (or checked), 2 bad file (every bad row named, nothing imported)."""
    import sys

    from queue_server.store import Store

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        procedures = read_catalogue(file, config)
    except CatalogueError as exc:
        print(f"{exc}\n{len(exc.problems)} problem(s); nothing was imported.", file=err)
        return 2
    services = len({p.service for p in procedures})
    if check_only:
        print(f"{file}: OK — {len(procedures)} procedures for {services} services (checked only, not imported)", file=out)
        return 0
    store = Store(db_path or config.server.db_path, config)
    try:
        got = ProcedureStore(store).replace(procedures, source=Path(file).name, actor="cli")
    finally:
        store.close()
    print(f"{file}: imported {got['count']} procedures for {services} services into {store.path} "
          f"(replacing {got['replaced']}); a running server uses them from its next search", file=out)
    return 0
