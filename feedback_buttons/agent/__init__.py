"""The keypad agent (`python -m feedback_buttons`): decoders, port readers, the outbox and delivery. Imports
nothing of the server; the server runs the same readers for keypads with run_in: server (inserver.py)."""
