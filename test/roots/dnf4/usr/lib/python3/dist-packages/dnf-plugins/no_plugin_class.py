# Planted: no dnf.Plugin subclass at all; only module-level code.
import os

HOOKED = os.environ.get('HOME')


class Helper(object):
    name = 'not-a-plugin'
