import dnf


class Extra(dnf.Plugin):
    name = 'extra'
