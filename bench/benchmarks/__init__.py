"""One module per benchmark; each `run(env)` returns a BenchResult (rows against ceilings, correctness checks)."""
