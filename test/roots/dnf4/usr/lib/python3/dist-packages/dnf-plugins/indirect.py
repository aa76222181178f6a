# A subclass of a subclass: dnf.plugin uses Plugin.__subclasses__(), which
# lists direct subclasses only, so only Base is instantiated.
import dnf


class Base(dnf.Plugin):
    name = 'indirect-base'


class Derived(Base):
    name = 'indirect-derived'
