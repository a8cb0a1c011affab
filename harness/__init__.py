"""Real processes that the tests and the benchmark both start on this machine.

`ports.free_port` finds a port to start a server on; `redis_server.RedisServer`
runs a private redis-server there. Neither imports pytest: a missing program
or a server that will not start raises an exception, which the tests turn
into a skip or a failure (tests/redis_server.py) and the benchmark into a
failed run. Both are run from the repository root (pytest's `pythonpath = .`,
and bench/'s scripts put the root on sys.path), so this package sits there.
"""
