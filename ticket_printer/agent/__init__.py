"""The printer agent (`python -m ticket_printer`), the printer backends and the push-button dispenser
(`qms dispenser ID`, or `python -m ticket_printer.agent.dispenser`). Imports nothing of the server; the server
prints through the same backends for printers it reaches itself."""
