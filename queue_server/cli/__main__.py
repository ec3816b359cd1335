"""`python -m queue_server.cli ...`: the same as the `qms` command."""
import sys

from queue_server.cli import main

sys.exit(main())
