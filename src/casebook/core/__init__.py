"""The shared kernel: what every layer may import, importing nothing else of casebook.

- ``entities``: the objects casebook keeps and the enums that hold their rules.
- ``clock``: time (microseconds, UTC) and identifiers (UUIDs, case keys).
- ``errors``: every exception casebook raises on purpose (the tree is in its docstring).
- ``faults``: fault injection for the reliability tests.
"""
