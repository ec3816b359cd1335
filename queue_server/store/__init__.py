"""The store: the only code that runs SQL. One module per resource; `db` holds the connection, the single
writer and the migrations."""
from queue_server.store.tickets import (OpResult, Store, TICKET_COLUMNS, ticket_from_row, ticket_from_row_dict,  # noqa: F401
                                        ticket_to_dict, utc_now)
