"""Pure protocol code: no I/O, only bytes, strings and dicts in and out."""
