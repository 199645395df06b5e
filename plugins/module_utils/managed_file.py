# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files a module owns whole: systemd units and drop-ins, udev rules, config snippets.

A ``ManagedFile`` compares the wanted content with what is on disk, reports a
diff, honours check mode, backs up what it replaces, writes atomically, and can
put the old file back when a later step of the same module fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS


class ManagedFile:
    """``ManagedFile(module, '/etc/systemd/system/x.service', content).apply()``.

    ``content=None`` means the file must not exist. ``apply()`` returns
    ``{'changed', 'path', 'backup_file', 'diff'}``; ``restore()`` undoes it.
    """

    def __init__(self, module, path, content, mode=0o644, fs=None, backup=True):
        self.module = module
        self.path = path
        self.content = content
        self.mode = mode
        self.fs = fs or HostFS()
        self.backup = backup
        self.real_path = self.fs.path(path)
        self.backup_file = None
        self._applied = False
        self._before = None

    def current(self):
        return self.fs.read_raw(self.path)

    def needs_change(self):
        return self.current() != self.content

    def diff(self):
        return {
            'before_header': self.path, 'after_header': self.path,
            'before': self.current() or '', 'after': self.content or '',
        }

    def apply(self):
        self._before = self.current()
        result = {'changed': False, 'path': self.path, 'backup_file': None}
        if self._before == self.content:
            return result
        result['changed'] = True
        if self.module._diff:
            result['diff'] = {'before_header': self.path, 'after_header': self.path,
                              'before': self._before or '', 'after': self.content or ''}
        if self.module.check_mode:
            return result
        if self._before is not None and self.backup:
            self.backup_file = self.module.backup_local(self.real_path)
            result['backup_file'] = self.fs.unroot(self.backup_file)
        if self.content is None:
            os.unlink(self.real_path)
        else:
            self._write(self.content)
        self._applied = True
        return result

    def _write(self, content):
        directory = os.path.dirname(self.real_path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(self.real_path))
        try:
            with os.fdopen(handle, 'w') as out:
                out.write(content)
            self.module.atomic_move(tmp, self.real_path, unsafe_writes=False)
            # atomic_move gives a new destination the default (umask) mode.
            os.chmod(self.real_path, self.mode)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def restore(self):
        """Put back what ``apply()`` replaced (after a later step failed)."""
        if not self._applied:
            return
        if self._before is None:
            if os.path.exists(self.real_path):
                os.unlink(self.real_path)
        else:
            self._write(self._before)
        self._applied = False


def systemd_daemon_reload(module, fs=None):
    """``systemctl daemon-reload`` where systemd is running; True when it ran.

    Skipped in check mode, without systemctl, and where systemd is not PID 1
    (containers, chroots): there is nothing to reload there.
    """
    fs = fs or HostFS()
    systemctl = module.get_bin_path('systemctl')
    if module.check_mode or not systemctl or not fs.isdir('/run/systemd/system'):
        return False
    rc, out, err = module.run_command([systemctl, 'daemon-reload'])
    if rc != 0:
        module.fail_json(msg='systemctl daemon-reload failed: %s' % (err or out).strip())
    return True
