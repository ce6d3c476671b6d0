"""fedblog's benchmark suite: every figure is a ratio to a ceiling measured in the same run on this machine.

`python -m bench` runs everything (under 15 minutes) and writes bench/results/<date>.json and .md;
`python -m bench --smoke` runs each benchmark at a tiny size and checks correctness only.
Servers are pinned to one core, load generators and sinks to the other, all on loopback, each in its own process.
"""
