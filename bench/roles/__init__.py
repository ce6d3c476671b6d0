"""The processes the driver starts: fedblog's server, ceilings, sinks, key servers and load generators.

Each runs `python -m bench.roles.<name>`, prints `READY <json>` once listening, then answers one JSON command
per stdin line (bench/roles/child.py) and exits when stdin closes.
"""
