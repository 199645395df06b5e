# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One door to the host's kernel interfaces and configuration files.

Every kernel object in this collection (PCI devices, CPUs, NUMA nodes, hugepage
pools, the kernel command line) reads and writes through a ``HostFS``. In
production its root is ``/``; unit tests point it at a fake tree so that no test
ever touches the machine it runs on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

# Unit tests run module main() in-process against a fake tree; they set this
# variable instead of a module option so that no user-facing option exists only
# for tests. Ansible never sets it.
TEST_ROOT_ENV = 'NFV_DPDK_TEST_ROOT'


def host_root():
    """Root of the host tree that modules operate on (``/`` outside tests)."""
    return os.environ.get(TEST_ROOT_ENV) or '/'


class HostFS:
    """Read and write host paths (``/sys``, ``/proc``, ``/etc``...) below a root."""

    def __init__(self, root=None):
        self.root = os.path.abspath(root or host_root())

    def path(self, path):
        """Absolute path on this machine for the host path ``path``."""
        if self.root == '/':
            return path
        return os.path.join(self.root, path.lstrip('/'))

    def unroot(self, real_path):
        """Host path for a real path below the root (inverse of ``path``)."""
        if self.root == '/':
            return real_path
        rel = os.path.relpath(real_path, self.root)
        return '/' + ('' if rel == '.' else rel)

    def exists(self, path):
        return os.path.exists(self.path(path))

    def isdir(self, path):
        return os.path.isdir(self.path(path))

    def islink(self, path):
        return os.path.islink(self.path(path))

    def listdir(self, path):
        """Sorted entries of a directory; empty when it does not exist."""
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise

    def read(self, path, default=None):
        """Stripped text of a file, or ``default`` when it is missing or unreadable.

        Kernels differ in which attributes they expose, and some sysfs files
        refuse reads (EINVAL, EOPNOTSUPP); callers decide what a missing value means.
        """
        try:
            with open(self.path(path), 'r') as handle:
                return handle.read().strip()
        except (IOError, OSError, UnicodeDecodeError):
            return default

    def read_raw(self, path, default=None):
        """Unstripped text of a file (configuration files), or ``default``."""
        try:
            with open(self.path(path), 'r') as handle:
                return handle.read()
        except (IOError, OSError, UnicodeDecodeError):
            return default

    def read_int(self, path, default=None):
        value = self.read(path)
        if value is None:
            return default
        try:
            return int(value.split()[0], 0) if value else default
        except ValueError:
            return default

    def write(self, path, value):
        """Write ``value`` to a kernel attribute; raises the kernel's OSError as is."""
        with open(self.path(path), 'w') as handle:
            handle.write(str(value))

    def readlink(self, path):
        """Target of a symlink as a host path, resolved; None when not a link."""
        real = self.path(path)
        if not os.path.islink(real):
            return None
        return self.unroot(os.path.realpath(real))

    def link_name(self, path):
        """Last component of a symlink's target (e.g. the driver's name), or None."""
        target = self.readlink(path)
        return os.path.basename(target) if target else None

    def realpath(self, path):
        return self.unroot(os.path.realpath(self.path(path)))
