# Enabled fixture plugin (hooksdemo.conf has enabled=1).
# rpm-software-management/yum yum/plugins.py _loadplugin: needs requires_api_version
# (API_VERSION '2.7'), plugin_type filtered against requested types, and registers
# every <slot>_hook function found for slots in SLOT_TO_CONDUIT.
from yum.plugins import TYPE_CORE

requires_api_version = '2.3'
plugin_type = (TYPE_CORE,)


def config_hook(conduit):
    pass


def init_hook(conduit):
    conduit.info(2, 'hooksdemo: init')


def postreposetup_hook(conduit):
    pass


def close_hook(conduit):
    pass
