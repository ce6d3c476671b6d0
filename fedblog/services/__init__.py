"""Use cases: each public function or method is one thing a handler, the CLI or the worker asks for."""
