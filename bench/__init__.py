"""The newsclf benchmark harness: `python -m bench.run` (see `bench/run.py`).

It lives apart from the service so that measuring never changes what is measured: every figure
comes from the same model directory, the same `newsclf serve` command line and the same broker
a user would run.
"""
