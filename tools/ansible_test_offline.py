#!/usr/bin/env python3
"""Let ``ansible-test sanity`` bootstrap pip with only PyPI reachable.

ansible-test creates an empty virtualenv for each sanity test and bootstraps
pip in it by running a ``get-pip`` script that it downloads from a host that is
unreachable here. It first looks for that script in its cache
(~/.ansible/test/cache/get_pip_<version>.py) and runs it with pip's install
arguments. This file is a stand-in for that script: run as ``install`` it puts a
copy of itself in the cache; run by ansible-test it installs the exact pip
version asked for from PyPI into the new virtualenv, using the pip of the
Python that ran ``install`` (``pip --python``), so no pip ever upgrades itself.
"""

import os
import re
import subprocess
import sys

# Replaced in the cached copy by the interpreter that ran ``install``.
INSTALLER_PYTHON = None


def _pip_version():
    import ansible_test
    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source) as handle:
        match = re.search(r"default_packages = dict\(\s*pip='([^']+)'", handle.read())
    if not match:
        sys.exit('cannot find the pip version ansible-test bootstraps in %s' % source)
    return match.group(1)


def install():
    version = _pip_version()
    cache = os.path.expanduser('~/.ansible/test/cache')
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_'))
    with open(os.path.abspath(__file__)) as handle:
        source = handle.read()
    source = source.replace('INSTALLER_PYTHON = None', 'INSTALLER_PYTHON = %r' % sys.executable, 1)
    with open(target + '.tmp', 'w') as handle:
        handle.write(source)
    os.replace(target + '.tmp', target)
    print('ansible-test pip bootstrap (offline stand-in): %s' % target)


def bootstrap(args):
    # get-pip.py's own options; pip install does not know them.
    pip_args = [arg for arg in args if arg not in ('--no-setuptools', '--no-wheel')]
    if INSTALLER_PYTHON is None:
        sys.exit('run "%s install" first' % __file__)
    subprocess.check_call([INSTALLER_PYTHON, '-m', 'pip', '--python', sys.executable, 'install',
                           '--disable-pip-version-check'] + pip_args)


if __name__ == '__main__':
    if sys.argv[1:] == ['install']:
        install()
    else:
        bootstrap(sys.argv[1:])
