# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files a module owns whole: systemd units and drop-ins, udev rules, config snippets.

A ``ManagedFile`` compares the wanted content with what is on disk, reports a
diff, honours check mode, backs up what it replaces, writes atomically, and can
put the old file back when a later step of the same module fails.

``backup_copy`` is the one way this collection names and makes backups: never
``module.backup_local``, whose name (pid and second) lets a second backup of the
same file in the same second overwrite the first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import tempfile
import time

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS


BACKUP_ATTEMPTS = 100


def backup_name(real_path, now=None, pid=None):
    """``<file>.<pid>.<YYYY-MM-DD@HH:MM:SS.ffffff>~``: like ansible's backup names, plus microseconds."""
    now = time.time() if now is None else now
    stamp = time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(now)) + '.%06d' % int(round((now % 1) * 1e6) % 1000000)
    return '%s.%s.%s~' % (real_path, os.getpid() if pid is None else pid, stamp)


def backup_copy(module, real_path, now=None):
    """Copy ``real_path`` (a path on this machine) to a backup name nobody else holds; returns that name.

    The name is reserved with O_CREAT|O_EXCL before the copy, and a counter
    (``...~1``, ``...~2``) is added when it is taken, so two backups of one file
    never overwrite each other, even within one microsecond or across processes.
    The copy keeps mode, times and owner (``module.preserved_copy``).
    """
    base = backup_name(real_path, now)
    for attempt in range(BACKUP_ATTEMPTS):
        candidate = base if attempt == 0 else '%s%d' % (base, attempt)
        try:
            handle = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            raise
        os.close(handle)
        try:
            module.preserved_copy(real_path, candidate)
        except Exception:
            os.unlink(candidate)
            raise
        return candidate
    raise OSError(errno.EEXIST, 'no free backup name for %s after %d attempts' % (real_path, BACKUP_ATTEMPTS), base)


def _read_bytes(real_path):
    try:
        with open(real_path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


class ManagedFile:
    """``ManagedFile(module, '/etc/systemd/system/x.service', content).apply()``.

    ``content=None`` means the file must not exist. ``apply()`` returns
    ``{'changed', 'path', 'backup_file', 'diff'}``; ``restore()`` undoes it and
    says whether the file then reads back byte for byte as before.
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
        self._before_bytes = None
        self._before_mode = None

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
        # The exact bytes and mode, for restore(): the text above may have lost nothing,
        # but a restore must not depend on that.
        self._before_bytes = _read_bytes(self.real_path)
        self._before_mode = os.stat(self.real_path).st_mode & 0o7777 if self._before_bytes is not None else None
        if self._before_bytes is not None and self.backup:
            self.backup_file = backup_copy(self.module, self.real_path)
            result['backup_file'] = self.fs.unroot(self.backup_file)
        if self.content is None:
            os.unlink(self.real_path)
        else:
            self._write(self.content)
        self._applied = True
        return result

    def _write(self, content, mode=None):
        directory = os.path.dirname(self.real_path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(self.real_path))
        try:
            with os.fdopen(handle, 'wb' if isinstance(content, bytes) else 'w') as out:
                out.write(content)
            self.module.atomic_move(tmp, self.real_path, unsafe_writes=False)
            # atomic_move gives a new destination the default (umask) mode.
            os.chmod(self.real_path, self.mode if mode is None else mode)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def restore(self):
        """Put back, byte for byte and with its mode, what ``apply()`` replaced (after a later step failed).

        Returns True when the file then reads back exactly as before (or is absent
        again), False when it does not; nothing to undo is True. Raises OSError when
        the write itself fails.
        """
        if not self._applied:
            return True
        if self._before_bytes is None:
            if os.path.lexists(self.real_path):
                os.unlink(self.real_path)
        else:
            self._write(self._before_bytes, mode=self._before_mode)
        self._applied = False
        return self.is_as_before()

    @property
    def existed_before(self):
        """Whether the file existed when ``apply()`` changed it (for messages: restored or removed again)."""
        return self._before_bytes is not None

    def is_as_before(self):
        """Whether the file on disk is byte for byte (and mode) what it was before ``apply()``."""
        now = _read_bytes(self.real_path)
        if now != self._before_bytes:
            return False
        return now is None or os.stat(self.real_path).st_mode & 0o7777 == self._before_mode


def systemd_running(module, fs=None):
    """systemctl's path where systemd is PID 1, else None (containers, chroots: nothing to reload there)."""
    fs = fs or HostFS()
    systemctl = module.get_bin_path('systemctl')
    if not systemctl or not fs.isdir('/run/systemd/system'):
        return None
    return systemctl


def systemd_stale_units(module, units, fs=None):
    """The units of ``units`` (names such as ``x.service``) whose files systemd has not loaded.

    A run killed between writing a unit and ``systemctl daemon-reload`` leaves the
    file right on disk and systemd on the old definition; the re-run then sees no
    file to change, so it asks systemd instead: ``NeedDaemonReload=yes`` (the file or
    a drop-in changed, or went away, after the last reload) or ``LoadState=not-found``
    while the file exists. Read only, so it also runs in check mode. An answer that
    cannot be read counts as stale: a reload too many is harmless, one too few is not.
    Empty where systemd does not run.
    """
    fs = fs or HostFS()
    systemctl = systemd_running(module, fs)
    if not systemctl:
        return []
    stale = []
    for unit in units:
        rc, out, err = module.run_command([systemctl, 'show', '--property=NeedDaemonReload', '--property=LoadState', unit])
        values = dict(line.split('=', 1) for line in (out or '').splitlines() if '=' in line)
        if rc != 0 or values.get('NeedDaemonReload') not in ('yes', 'no'):
            stale.append(unit)
        elif values['NeedDaemonReload'] == 'yes':
            stale.append(unit)
        elif values.get('LoadState') == 'not-found' and fs.exists('/etc/systemd/system/' + unit):
            stale.append(unit)
    return stale


def systemd_daemon_reload(module, fs=None):
    """``systemctl daemon-reload`` where systemd is running; True when it ran.

    Skipped in check mode and where systemd is not PID 1 (see ``systemd_running``).
    Callers reload when they changed a unit file, and also when ``systemd_stale_units``
    names one of their units, so that a re-run after an interrupted reload reloads.
    """
    systemctl = systemd_running(module, fs)
    if module.check_mode or not systemctl:
        return False
    rc, out, err = module.run_command([systemctl, 'daemon-reload'])
    if rc != 0:
        module.fail_json(msg='systemctl daemon-reload failed: %s' % (err or out).strip())
    return True
