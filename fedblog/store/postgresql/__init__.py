"""The PostgreSQL backend: its raw connection (raw.py) and its Database (database.py)."""
