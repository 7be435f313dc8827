"""The six workloads (W1 to W6), each a module of small functions over a :class:`~benchmarks.group.Group`."""
