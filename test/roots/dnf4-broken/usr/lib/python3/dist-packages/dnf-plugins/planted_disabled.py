# Planted: disabled in its .conf, yet DNF imports the module before it reads
# enabled=, so this module-level code runs every time DNF starts.
import os
import dnf

_marker_dir = os.environ.get('PKGPERSIST_MARKER_DIR')
if _marker_dir:
    open(os.path.join(_marker_dir, 'planted_disabled-imported'), 'w').close()


class Dormant(dnf.Plugin):
    name = 'dormant'
    config_name = 'dormant-settings'
