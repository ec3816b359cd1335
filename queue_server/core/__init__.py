"""The pure core: every rule of the queue, the wait estimate, the rating rules and the voice grammar.

Plain Python with no I/O: no SQLite, no Flask, no clock, no network. It imports nothing of the project outside
this package; the store and the web layer ask it and never re-check a rule of their own.
"""
