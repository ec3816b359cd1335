"""The LED agent (`python -m displays.led`, or `python -m displays.agent`): drives RS485 LED boards from the
server's live counter states. Imports nothing of the server; the server's in-server mode runs the same driver."""
