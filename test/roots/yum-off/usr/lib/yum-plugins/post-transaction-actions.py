# Stub standing in for yum-utils plugins/post-transaction-actions/post-transaction-actions.py
# (installed to /usr/lib/yum-plugins per yum-utils.spec). The real module declares
# requires_api_version = '2.4', plugin_type = (TYPE_CORE,), pretrans_hook and posttrans_hook;
# posttrans_hook reads <actiondir>*.action and runs commands with os.system.
from yum.plugins import TYPE_CORE

requires_api_version = '2.4'
plugin_type = (TYPE_CORE,)


def posttrans_hook(conduit):
    pass
