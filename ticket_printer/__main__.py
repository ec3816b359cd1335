"""`python -m ticket_printer --server URL --kiosk ID --token T`: the printer agent (ticket_printer/agent.py)."""
import sys

from ticket_printer.agent import main

sys.exit(main())
