# Disabled fixture plugin (offplug.conf has enabled=0); yum/plugins.py _loadplugin
# returns before imp.load_module, so this code is never imported.
from yum.plugins import TYPE_CORE

requires_api_version = '2.3'
plugin_type = (TYPE_CORE,)


def init_hook(conduit):
    conduit.info(2, 'offplug: init')
