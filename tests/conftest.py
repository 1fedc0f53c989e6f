"""The brute-force reference (``brute.py``) and the strategies live beside the tests; pytest's
``pythonpath`` setting makes them importable."""
