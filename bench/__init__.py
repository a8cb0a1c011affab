"""The broadcast benchmark (bench/README.md): our chat server and reference servers, under load.

Its scripts run from anywhere (`python bench/run.py`, `python bench/loadgen.py`):
they put the repository root on sys.path and import these modules as `bench.<name>`.
Each module imports only modules below it, never the command line above it:

    run.py        the runner's command line and its schedule: every server through every shape
      report.py     results.json and results.md; plot.py draws results.png
      checks.py     issue 5's targets, and whether the generator kept up
      growth.py     how costs grow: CPU per delivery by room size, idle memory by count
      summary.py    the figures taken from each run's report, their medians
      runs.py       one run: a fresh server, the load generator against it
      contenders.py the servers measured: how to start, place and stop each
      shapes.py     the load shapes

    loadgen.py    the load generator's command line, and its one JSON report
      swarm.py      the N clients: connect, run phases
      measure.py    what a phase measured
      client.py     one connection
      phase.py      a phase's tokens, the bench messages, counting them
      frames.py     the WebSocket handshake and frames
      procfs.py     /proc readers: CPU, memory and sockets of a process tree

redis_cost.py (the cost of a post to Redis) and store_cost.py (the cost of storing one)
measure other things, each a script of its own.
"""
