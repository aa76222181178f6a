# Same module name as in /opt/dnf-plugins, which comes first on the path:
# DNF imports that one and never this one.
import dnf


class Shadowed(dnf.Plugin):
    name = 'shadowed'
