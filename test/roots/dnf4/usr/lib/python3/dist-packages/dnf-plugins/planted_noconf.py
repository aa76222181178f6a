# Planted: no .conf anywhere; DNF loads it anyway.
from dnf import Plugin as _Base


class Quiet(_Base):
    name = "quiet-metrics"
