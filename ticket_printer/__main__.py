"""`python -m ticket_printer --server URL --kiosk ID --token T`: the printer agent (ticket_printer/agent/)."""
from ticket_printer.agent.main import main

raise SystemExit(main())
