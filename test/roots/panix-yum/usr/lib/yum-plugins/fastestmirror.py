#!/usr/bin/python
# Stand-in for yum-utils' fastestmirror plugin in the pkgpersist fixtures: a
# Python 2 YUM plugin of the same shape (hooks, a socket timing thread, print
# statements), written for these tests. Test data only, never run.
import os
import sys
import time
import socket
import threading

from yum.plugins import TYPE_CORE

requires_api_version = '2.5'
plugin_type = (TYPE_CORE,)

verbose = False
socket_timeout = 3
hostfilepath = '/var/cache/yum/timedhosts.txt'
timed = {}


def init_hook(conduit):
    global verbose, socket_timeout, hostfilepath
    verbose = conduit.confBool('main', 'verbose', default=False)
    socket_timeout = conduit.confInt('main', 'socket_timeout', default=3)
    hostfilepath = conduit.confString('main', 'hostfilepath', default=hostfilepath)


def clean_hook(conduit):
    if os.path.exists(hostfilepath):
        conduit.info(2, "Cleaning up list of fastest mirrors")
        os.unlink(hostfilepath)


def postreposetup_hook(conduit):
    for repo in conduit.getRepos().listEnabled():
        probes = [Probe(url) for url in repo.urls]
        for p in probes:
            p.start()
        for p in probes:
            p.join()
        repo.urls = sorted(repo.urls, key=lambda u: timed.get(u, 1e9))
        if verbose:
            print " * %s: %s" % (repo, repo.urls[0])


class Probe(threading.Thread):
    """Times a TCP connection to one mirror."""

    def __init__(self, url):
        threading.Thread.__init__(self)
        self.url = url
        self.host = url.split('/')[2].split('@')[-1]

    def run(self):
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(socket_timeout)
            start = time.time()
            sock.connect((self.host, 80))
            timed[self.url] = time.time() - start
            sock.close()
        except socket.error, e:
            if verbose:
                print " * %s: dead (%s)" % (self.host, e)
