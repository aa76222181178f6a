# Module without a .conf: yum/plugins.py _getpluginconf returns None ("Unable to find
# configuration file for plugin noconf") and _loadplugin does not load it.
from yum.plugins import TYPE_CORE

requires_api_version = '2.3'
plugin_type = (TYPE_CORE,)


def pretrans_hook(conduit):
    conduit.info(2, 'noconf: pretrans')
