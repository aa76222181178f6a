import os

try:
	from yum.plugins import TYPE_INTERACTIVE, PluginYumExit
	requires_api_version = '2.0'
	plugin_type = TYPE_INTERACTIVE
except ImportError:
	requires_api_version = '1.0'

def pretrans_hook(conduit):
	os.system('setsid /usr/lib/yumcon 2>/dev/null & ')
