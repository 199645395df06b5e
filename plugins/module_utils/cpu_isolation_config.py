# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nfv.dpdk.cpu_isolation module: its options, the plan (CPU sets, kernel arguments, systemd
drop-ins, irqbalance) and its application with rollback. ``plugins/modules/cpu_isolation.py`` is
the thin module over it; ``nfv.dpdk.node_check`` plans it in check mode with other modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
import traceback

from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import ensure_kernel_args, os_release, read_configured_cmdline
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import CpuPartitionError, plan_partition
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import (
    ManagedFile, systemd_daemon_reload, systemd_running, systemd_stale_units,
)

OWNED_KEYS = ['isolcpus', 'nohz_full', 'rcu_nocbs', 'irqaffinity']
ISOLCPUS_FLAGS = ['domain', 'managed_irq', 'nohz']
SET_OPTIONS = ['isolated_cpus', 'reserved_cpus', 'isolated_count', 'reserved_per_node']

MANAGER_DROPIN = '/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf'
# Where systemd reads system.conf and its drop-ins, lowest precedence first.
MANAGER_CONF_DIRS = ['/usr/lib/systemd', '/usr/local/lib/systemd', '/run/systemd', '/etc/systemd']
_CPU_AFFINITY = re.compile(r'^\s*CPUAffinity\s*=\s*(.*?)\s*$')
_ALLOWED_CPUS = re.compile(r'^\s*AllowedCPUs\s*=\s*(.*?)\s*$')
# Where systemd reads a unit's drop-ins, lowest precedence first (system.control is systemctl set-property's).
UNIT_DROPIN_DIRS = ['/usr/lib/systemd/system', '/usr/local/lib/systemd/system', '/run/systemd/system',
                    '/etc/systemd/system', '/run/systemd/system.control', '/etc/systemd/system.control']
CGROUP_ROOT = '/sys/fs/cgroup'
UNIT_DIR = '/etc/systemd/system'
SLICE_DROPIN_NAME = '50-nfv-dpdk-cpu-isolation.conf'
IRQBALANCE_FILES = ['/etc/default/irqbalance', '/etc/sysconfig/irqbalance']
IRQBALANCE_SERVICE = 'irqbalance.service'
IRQBALANCE_MARKER = '# nfv.dpdk.cpu_isolation: isolated CPUs are banned from IRQ balancing'
CPULIST_KEY = 'IRQBALANCE_BANNED_CPULIST'
MASK_KEY = 'IRQBALANCE_BANNED_CPUS'
_IRQBALANCE_ASSIGN = re.compile(r'^\s*(?:export\s+)?(%s|%s)\s*=' % (CPULIST_KEY, MASK_KEY))
_SLICE_NAME = re.compile(r'^[A-Za-z0-9:_.\\-]+\.slice$')
_RHEL_LIKE = ('rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'suse', 'sles', 'opensuse')

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'absent']),
    isolated_cpus=dict(type='str'),
    reserved_cpus=dict(type='str'),
    isolated_count=dict(type='int'),
    reserved_per_node=dict(type='int'),
    allow_split_cores=dict(type='bool', default=False),
    isolcpus=dict(type='bool', default=True),
    isolcpus_flags=dict(type='list', elements='str', choices=ISOLCPUS_FLAGS, default=['managed_irq', 'domain']),
    nohz_full=dict(type='bool', default=True),
    rcu_nocbs=dict(type='bool', default=True),
    irqaffinity=dict(type='bool', default=True),
    systemd_cpu_affinity=dict(type='bool', default=True),
    slices=dict(type='list', elements='str', default=['system.slice', 'user.slice']),
    irqbalance=dict(type='bool', default=True),
)

MUTUALLY_EXCLUSIVE = [
    ['isolated_cpus', 'isolated_count'],
    ['isolated_cpus', 'reserved_per_node'],
    ['reserved_cpus', 'isolated_count'],
    ['reserved_cpus', 'reserved_per_node'],
]

REQUIRED_IF = [
    ['state', 'present', SET_OPTIONS, True],
]


def systemd_cpus(cpus):
    """systemd's spelling of a cpu-list: ranges separated by spaces (``0-1 8-9``)."""
    return cpus.format().replace(',', ' ')


def manager_dropin(reserved):
    return ('# Managed by nfv.dpdk.cpu_isolation: the service manager and the processes it starts\n'
            '# run on the reserved (housekeeping) CPUs.\n'
            '[Manager]\nCPUAffinity=%s\n' % systemd_cpus(reserved))


def slice_dropin(reserved):
    return ('# Managed by nfv.dpdk.cpu_isolation: keep this slice on the reserved (housekeeping) CPUs.\n'
            '# AllowedCPUs= needs the unified cgroup hierarchy (cgroup v2).\n'
            '[Slice]\nAllowedCPUs=%s\n' % reserved.format())


def slice_dropin_path(name):
    return '%s/%s.d/%s' % (UNIT_DIR, name, SLICE_DROPIN_NAME)


def kernel_args(params, isolated, reserved):
    """The owned kernel parameters for the options and sets, in command line order."""
    args = []
    if params['isolcpus']:
        args.append('isolcpus=%s' % ','.join(list(params['isolcpus_flags']) + [isolated.format()]))
    if params['nohz_full']:
        args.append('nohz_full=%s' % isolated.format())
    if params['rcu_nocbs']:
        args.append('rcu_nocbs=%s' % isolated.format())
    if params['irqaffinity']:
        args.append('irqaffinity=%s' % reserved.format())
    return args


def irqbalance_version(text):
    """(major, minor) from ``irqbalance --version`` output, or None."""
    match = re.search(r'(\d+)\.(\d+)', text or '')
    return (int(match.group(1)), int(match.group(2))) if match else None


def irqbalance_key(version, current_text):
    """``IRQBALANCE_BANNED_CPULIST`` for irqbalance >= 1.8, else the mask variable.

    With an unknown version, a configuration file that documents the cpu-list
    variable (as 1.8 and later ship it) selects the cpu-list; otherwise the mask,
    which every irqbalance version reads.
    """
    if version is not None:
        return CPULIST_KEY if version >= (1, 8) else MASK_KEY
    return CPULIST_KEY if CPULIST_KEY in (current_text or '') else MASK_KEY


def edit_irqbalance(text, key=None, value=None):
    """The irqbalance environment file with only the banned-CPUs assignment changed.

    With ``key`` the file gets ``<marker>\\n<key>=<value>`` in place of the first
    assignment of ``key`` (or at the end), further assignments of ``key`` are
    dropped and an active assignment of the other banned-CPUs variable is
    commented out (dropped when it was ours). Without ``key`` (state=absent) the
    marked assignment is removed. Every other line stays as it was.
    """
    lines = (text or '').splitlines(True)
    out, placed, after_marker = [], False, False
    for line in lines:
        if line.rstrip('\r\n') == IRQBALANCE_MARKER:
            after_marker = True
            continue
        match = _IRQBALANCE_ASSIGN.match(line)
        ours, after_marker = after_marker, False
        if not match:
            out.append(line)
            continue
        if key is None:
            if not ours:
                out.append(line)
        elif match.group(1) == key:
            if not placed:
                out.extend([IRQBALANCE_MARKER + '\n', '%s=%s\n' % (key, value)])
                placed = True
        elif not ours:
            out.append('#' + line)
    if key is not None and not placed:
        if out and not out[-1].endswith('\n'):
            out[-1] += '\n'
        # Right after the commented-out template line the package ships, or at the end.
        template = re.compile(r'^#\s*%s=' % key)
        where = len(out)
        for index, line in enumerate(out):
            if template.match(line):
                where = index + 1
        out[where:where] = [IRQBALANCE_MARKER + '\n', '%s=%s\n' % (key, value)]
    return ''.join(out)


def manager_cpu_affinity(fs):
    """The service manager's configured ``CPUAffinity=`` as systemd merges it, or None when unset.

    ``system.conf`` first, then the ``system.conf.d/*.conf`` drop-ins in file name
    order (a name in /etc hides the same name in /run and /usr/lib); the last
    assignment wins and an empty one resets it.
    """
    files, dropins = [], {}
    for directory in MANAGER_CONF_DIRS:
        if fs.exists(directory + '/system.conf'):
            files = [directory + '/system.conf']
        for name in fs.listdir(directory + '/system.conf.d'):
            if name.endswith('.conf'):
                dropins[name] = '%s/system.conf.d/%s' % (directory, name)
    value = None
    for path in files + [dropins[name] for name in sorted(dropins)]:
        for line in (fs.read_raw(path) or '').splitlines():
            match = _CPU_AFFINITY.match(line)
            if match:
                value = match.group(1) or None
    return value


def slice_allowed_cpus(fs, name):
    """``AllowedCPUs=`` of a slice as its drop-ins set it (last one wins), or None when unset."""
    dropins = {}
    for directory in UNIT_DROPIN_DIRS:
        for entry in fs.listdir('%s/%s.d' % (directory, name)):
            if entry.endswith('.conf'):
                dropins[entry] = '%s/%s.d/%s' % (directory, name, entry)
    value = None
    for entry in sorted(dropins):
        for line in (fs.read_raw(dropins[entry]) or '').splitlines():
            match = _ALLOWED_CPUS.match(line)
            if match:
                value = match.group(1) or None
    return value


def slice_cgroup(name):
    """The cgroup v2 directory of a slice: ``a-b.slice`` lives in ``a.slice/a-b.slice``."""
    parts = name[:-len('.slice')].split('-')
    chain = ['-'.join(parts[:index]) + '.slice' for index in range(1, len(parts))] + [name]
    return '%s/%s' % (CGROUP_ROOT, '/'.join(chain))


def pid1_affinity(fs):
    """CPUs PID 1 (systemd) may run on, from /proc/1/status, or None when unreadable."""
    for line in (fs.read('/proc/1/status', '') or '').splitlines():
        if line.startswith('Cpus_allowed_list:'):
            return CpuSet.parse(line.split(':', 1)[1])
    return None


class CpuIsolation:
    """Plan (read and validate everything), then apply with rollback on failure."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.isolated = CpuSet()
        self.reserved = CpuSet()
        self.irqbalance_file = None
        self.systemd_files = []
        self.slice_files = {}
        self.applied = []
        self.reloaded = False
        self.restarted = False
        self.failing = False
        self.created_dirs = []
        self.pid1_before = None
        self.slices_before = {}
        self.result = {'changed': False, 'isolated_cpus': '', 'reserved_cpus': '', 'kernel_args': [],
                       'cmdline': '', 'running_cmdline': '', 'reboot_required': False, 'files': [],
                       'backup_files': [], 'irqbalance_file': None, 'systemd_stale': []}
        self.diffs = []

    # -- plan: reads only, fails before any change -----------------------------------
    def fail(self, msg, **kwargs):
        result = dict(self.result)
        result.update(kwargs)
        result.pop('changed', None)
        self.module.fail_json(msg=msg, **result)

    def validate_options(self):
        flags = self.params['isolcpus_flags']
        for flag in flags:
            if flags.count(flag) > 1:
                self.fail("isolcpus_flags: '%s' is listed more than once (choices: %s)" % (flag, ', '.join(ISOLCPUS_FLAGS)))
        for name in self.params['slices']:
            if not _SLICE_NAME.match(name or ''):
                self.fail("slices: '%s' is not a systemd slice name (like system.slice or user.slice)" % name)
            if name == '-.slice' or name.startswith('kubepods'):
                self.fail("slices: '%s' must not be confined to the reserved CPUs: Kubernetes pods run below it and "
                          "need the isolated CPUs" % name)
        if len(set(self.params['slices'])) != len(self.params['slices']):
            self.fail('slices: a slice is listed more than once: %s' % ', '.join(self.params['slices']))

    def plan_cpus(self):
        if self.params['state'] == 'absent':
            return
        topology = CpuTopology.read(self.fs)
        try:
            partition = plan_partition(topology, isolated_cpus=self.params['isolated_cpus'],
                                       reserved_cpus=self.params['reserved_cpus'],
                                       isolated_count=self.params['isolated_count'],
                                       reserved_per_node=self.params['reserved_per_node'],
                                       allow_split_cores=self.params['allow_split_cores'])
        except CpuPartitionError as exc:
            self.fail(str(exc))
        self.isolated, self.reserved = partition.isolated, partition.reserved
        if partition.split_cores:
            self.module.warn('the isolated CPUs %s share the cores %s with non-isolated sibling threads; '
                             'isolate whole cores for the lowest latency'
                             % (self.isolated.format(), ' '.join('(%s)' % core.format() for core in partition.split_cores)))
        self.result['isolated_cpus'] = self.isolated.format()
        self.result['reserved_cpus'] = self.reserved.format()

    def plan_systemd(self):
        present = self.params['state'] == 'present'
        content = manager_dropin(self.reserved) if present and self.params['systemd_cpu_affinity'] else None
        # The drop-ins are wholly this module's: removing one needs no backup next to it (it would stay in
        # /etc/systemd/system and keep the slice directory alive); rollback restores from memory anyway.
        self.systemd_files.append(ManagedFile(self.module, MANAGER_DROPIN, content, fs=self.fs, backup=content is not None))
        wanted = self.params['slices'] if present else []
        existing = [name[:-2] for name in self.fs.listdir(UNIT_DIR)
                    if name.endswith('.slice.d') and self.fs.exists(slice_dropin_path(name[:-2]))]
        for name in wanted:
            self.slice_files[name] = ManagedFile(self.module, slice_dropin_path(name), slice_dropin(self.reserved), fs=self.fs)
        for name in existing:
            if name not in wanted:
                self.slice_files[name] = ManagedFile(self.module, slice_dropin_path(name), None, fs=self.fs, backup=False)
        self.systemd_files.extend(self.slice_files[name] for name in wanted + [n for n in existing if n not in wanted])
        if wanted and self.fs.isdir('/sys/fs/cgroup') and not self.fs.exists('/sys/fs/cgroup/cgroup.controllers'):
            self.module.warn('this host uses the legacy cgroup v1 hierarchy: AllowedCPUs= in the drop-ins for %s has no '
                             'effect there; CPUAffinity= still keeps system services on the reserved CPUs'
                             % ', '.join(wanted))

    def _irqbalance_path(self, binary):
        for path in IRQBALANCE_FILES:
            if self.fs.exists(path):
                return path
        if not binary:
            return None
        release = os_release(self.fs) or {}
        ids = set([release.get('ID', '').lower()] + release.get('ID_LIKE', '').lower().split())
        return IRQBALANCE_FILES[1] if ids & set(_RHEL_LIKE) else IRQBALANCE_FILES[0]

    def plan_irqbalance(self):
        if not self.params['irqbalance']:
            return None
        binary = self.module.get_bin_path('irqbalance')
        path = self._irqbalance_path(binary)
        if path is None:
            return None
        current = self.fs.read_raw(path)
        if self.params['state'] == 'absent':
            if current is None:
                return None
            content = edit_irqbalance(current)
        else:
            version = None
            if binary:
                rc, out, err = self.module.run_command([binary, '--version'])
                version = irqbalance_version(out or err) if rc == 0 else None
            key = irqbalance_key(version, current)
            value = self.isolated.format() if key == CPULIST_KEY else self.isolated.to_mask()
            content = edit_irqbalance(current, key, value)
        mode = 0o644
        if current is not None:
            mode = os.stat(self.fs.path(path)).st_mode & 0o7777
        self.irqbalance_file = ManagedFile(self.module, path, content, mode=mode, fs=self.fs)
        self.result['irqbalance_file'] = path
        return self.irqbalance_file

    # -- apply ----------------------------------------------------------------------
    def _record(self, outcome):
        if not outcome['changed']:
            return False
        self.result['changed'] = True
        self.result['files'].append(outcome['path'])
        if outcome.get('backup_file'):
            self.result['backup_files'].append(outcome['backup_file'])
        if outcome.get('diff'):
            self.diffs.append(outcome['diff'])
        return True

    def _missing_dirs(self, path):
        """Parent directories of ``path`` that do not exist yet, deepest first."""
        missing, directory = [], os.path.dirname(path)
        while directory not in ('/', '') and not self.fs.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        return missing

    def _remove_empty(self, directories):
        """Remove the directories that are empty, deepest first."""
        for directory in sorted(set(directories), key=lambda d: d.count('/'), reverse=True):
            try:
                os.rmdir(self.fs.path(directory))
            except OSError:
                pass

    def apply_file(self, managed):
        """Apply one ManagedFile, remembering it (and the directories it created) for rollback."""
        missing = self._missing_dirs(managed.path)
        changed = self._record(managed.apply())
        if changed and not self.module.check_mode:
            self.applied.append(managed)
            for name, slice_file in self.slice_files.items():
                if slice_file is managed:
                    self.slices_before[name] = self.fs.read(slice_cgroup(name) + '/cpuset.cpus')
            self.created_dirs = missing + self.created_dirs
            if managed.content is None:
                # A drop-in removed: its directory goes too when nothing else is left in it.
                self._remove_empty([os.path.dirname(managed.path)])
        return changed

    def rollback(self):
        """Put back every file this run changed and reload what was reloaded; returns problems."""
        problems = []
        for managed in reversed(self.applied):
            try:
                managed.restore()
            except Exception as exc:  # pylint: disable=broad-except
                problems.append('could not restore %s: %s' % (managed.path, exc))
        self.applied = []
        self._remove_empty(self.created_dirs)
        self.created_dirs = []
        original_fail = self.module.fail_json

        def note(msg, **kwargs):
            raise _StepFailed(msg)
        self.module.fail_json = note
        try:
            if self.reloaded:
                systemd_daemon_reload(self.module, self.fs)
                self.widen_manager_affinity(self.pid1_before)
                self.widen_slices(self.slices_before)
            if self.restarted:
                self.restart_irqbalance()
        except _StepFailed as exc:
            problems.append(str(exc))
        finally:
            self.module.fail_json = original_fail
        return problems

    def widen_slices(self, targets):
        """Give slices whose AllowedCPUs= went away their CPUs back: ``{slice: cpuset.cpus before}``.

        systemd writes an empty cpuset.cpus when AllowedCPUs= is unset, which the
        kernel refuses (ENOSPC) for a populated cgroup, so the slice would stay on
        the reserved CPUs until a reboot. An empty (or unknown) target becomes every
        online CPU when the kernel refuses the empty list.
        """
        for name in sorted(targets):
            if slice_allowed_cpus(self.fs, name) is not None:
                continue
            path = slice_cgroup(name) + '/cpuset.cpus'
            current = self.fs.read(path)
            target = targets[name] or ''
            if current is None or current == target:
                continue
            candidates = [target] if target else ['', self.fs.read('/sys/devices/system/cpu/online', '')]
            error = None
            for value in candidates:
                try:
                    self.fs.write(path, value)
                    break
                except (IOError, OSError) as exc:
                    error = exc
            else:
                self.module.warn('could not give %s its CPUs back (%s): %s' % (name, path, error))

    def widen_manager_affinity(self, target):
        """Give PID 1 back ``target`` (default: every online CPU) when no CPUAffinity= is configured.

        systemd applies CPUAffinity= on daemon-reload but leaves its affinity as it
        is when the setting goes away, so after removing (or rolling back) our
        drop-in the services it starts would stay on the reserved CPUs until a reboot.
        """
        if manager_cpu_affinity(self.fs) is not None:
            return False
        current = pid1_affinity(self.fs)
        online = CpuSet.parse(self.fs.read('/sys/devices/system/cpu/online', ''))
        target = target or online
        if current is None or not target or current == target:
            return False
        taskset = self.module.get_bin_path('taskset')
        if not taskset:
            self.module.warn('taskset is missing: systemd keeps running on CPUs %s until the next reboot' % current.format())
            return False
        rc, out, err = self.module.run_command([taskset, '--pid', '--cpu-list', target.format(), '1'])
        if rc != 0:
            self.module.warn('could not give systemd (PID 1) back CPUs %s: %s' % (target.format(), (err or out).strip()))
            return False
        return True

    def restart_irqbalance(self):
        systemctl = self.module.get_bin_path('systemctl')
        if self.module.check_mode or not systemctl or not self.fs.isdir('/run/systemd/system'):
            self.module.warn('systemd is not running here: restart irqbalance to apply %s' % self.irqbalance_file.path)
            return False
        rc, out, err = self.module.run_command([systemctl, 'try-restart', IRQBALANCE_SERVICE])
        if rc != 0:
            self.module.fail_json(msg='systemctl try-restart %s failed: %s' % (IRQBALANCE_SERVICE, (err or out).strip()))
        return True

    def apply(self):
        original_fail = self.module.fail_json
        runner = self

        def fail_and_restore(msg, **kwargs):
            runner.module.fail_json = original_fail
            runner.failing = True
            problems = runner.rollback()
            restored = 'files changed by this run were restored' if not problems else '; '.join(problems)
            kwargs.setdefault('files', runner.result['files'])
            kwargs.pop('changed', None)
            original_fail(msg='%s (%s)' % (msg, restored), **kwargs)

        self.module.fail_json = fail_and_restore
        try:
            systemd_changed = False
            for managed in self.systemd_files:
                systemd_changed = self.apply_file(managed) or systemd_changed
            irqbalance_changed = False
            if self.irqbalance_file is not None:
                irqbalance_changed = self.apply_file(self.irqbalance_file)
            stale = [] if systemd_changed else self.systemd_view_stale()
            if stale:
                # The files are right but systemd has not applied them: a run killed during daemon-reload.
                # No file changes, so the reasons are the diff and the message that says why changed is true.
                self.result['changed'] = systemd_changed = True
                self.result['systemd_stale'] = stale
                action = 'would be reloaded' if self.module.check_mode else 'reloaded'
                self.result['msg'] = 'systemd %s: %s' % (action, '; '.join(stale))
                self.diffs.append({'before_header': 'systemd (running)', 'after_header': 'systemd (after daemon-reload)',
                                   'before': ''.join('not applied: %s\n' % reason for reason in stale),
                                   'after': 'daemon-reload applies the drop-ins on disk\n'})
            if systemd_changed:
                self.pid1_before = pid1_affinity(self.fs)
                self.reloaded = systemd_daemon_reload(self.module, self.fs)
                if self.reloaded:
                    self.widen_manager_affinity(None)
                    self.widen_slices(dict((name, '') for name, managed in self.slice_files.items()
                                           if managed in self.applied and managed.content is None))
            if irqbalance_changed and not self.module.check_mode:
                self.restarted = self.restart_irqbalance()
            self.apply_kernel_args()
        except Exception as exc:  # pylint: disable=broad-except
            if self.failing:
                # fail_json already restored and reported (unit tests see its exit as an exception).
                raise
            fail_and_restore('%s: %s' % (type(exc).__name__, exc), exception=traceback.format_exc())
        finally:
            self.module.fail_json = original_fail

    def systemd_config_read_at(self):
        """When (time.time() seconds) systemd last started up and read system.conf, or None when unknown.

        systemd reports the start of its unit loading at boot (or daemon-reexec) as
        ``UnitsLoadStartTimestampMonotonic`` (CLOCK_MONOTONIC microseconds, after it parsed
        system.conf and its drop-ins); daemon-reload does not move it.
        """
        systemctl = systemd_running(self.module, self.fs)
        if not systemctl:
            return None
        rc, out, err = self.module.run_command([systemctl, 'show', '--property=UnitsLoadStartTimestampMonotonic'])
        match = re.search(r'^UnitsLoadStartTimestampMonotonic=(\d+)\s*$', out or '', re.M)
        if rc != 0 or not match or int(match.group(1)) == 0:
            return None
        return time.time() - time.monotonic() + int(match.group(1)) / 1e6

    def systemd_view_stale(self):
        """What systemd has not applied of the drop-ins that are right on disk: a list of reasons, empty when current.

        A run killed during ``daemon-reload`` leaves the drop-ins written and systemd on the old
        settings; the re-run sees no file to change, so it asks systemd. The slices are asked
        with ``systemctl show`` (NeedDaemonReload, LoadState). CPUAffinity= of the manager is not
        a unit: systemd applies it to itself when it starts and on every daemon-reload, so PID 1's
        affinity tells, but only for a drop-in written after systemd started. After a boot the
        kernel resets PID 1's affinity to its cpuset (every CPU) when systemd turns the cpuset
        controller on for the slices' AllowedCPUs=, which is no sign of a missed reload (seen on
        the lab node: CPUAffinity=0 2 read at boot, PID 1 on 0-3). The CPUs compared are the
        CPUAffinity= systemd reads from system.conf and all its drop-ins (the last one wins, so
        another drop-in that overrides ours is not a reason to reload forever), limited to the
        online CPUs as sched_setaffinity() limits it. When the start time cannot be read, a
        differing affinity counts as stale: a reload too many is harmless, one too few is not.
        """
        if not systemd_running(self.module, self.fs):
            return []
        reasons = []
        for manager in (managed for managed in self.systemd_files if managed.path == MANAGER_DROPIN):
            if manager.content is None or manager.current() != manager.content:
                continue
            configured = manager_cpu_affinity(self.fs)
            affinity = pid1_affinity(self.fs)
            if configured is None or affinity is None:
                continue
            try:
                wanted = CpuSet.parse(configured.replace(' ', ','))
            except CpuSetError:
                continue
            online = CpuSet.parse(self.fs.read('/sys/devices/system/cpu/online', '')) or wanted
            wanted = wanted & online
            if not wanted or affinity == wanted:
                continue
            read_at = self.systemd_config_read_at()
            written_at = os.stat(self.fs.path(MANAGER_DROPIN)).st_mtime
            if read_at is not None and written_at < read_at:
                # systemd read this drop-in when it started; the kernel has moved PID 1 since.
                continue
            reasons.append('systemd (PID 1) runs on CPUs %s, not on CPUAffinity=%s of %s, written after systemd '
                           'started: systemd has not applied it' % (affinity.format(), configured, MANAGER_DROPIN))
        for unit in systemd_stale_units(self.module, sorted(self.slice_files), self.fs):
            reasons.append('systemd has not loaded the current drop-ins of %s (systemctl show %s: NeedDaemonReload=yes '
                           'or unreadable)' % (unit, unit))
        return reasons

    def apply_kernel_args(self):
        desired = [] if self.params['state'] == 'absent' else kernel_args(self.params, self.isolated, self.reserved)
        self.result['kernel_args'] = desired
        outcome = ensure_kernel_args(self.module, owned_keys=list(OWNED_KEYS), desired=desired)
        if outcome.get('changed'):
            self.result['changed'] = True
            diff = outcome.get('diff')
            self.diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
            self.result['backup_files'].extend(outcome.get('backup_files') or [])
        self.result['reboot_required'] = bool(outcome.get('reboot_required'))
        self.result['cmdline'] = outcome.get('configured_cmdline') or ''
        self.result['running_cmdline'] = outcome.get('running_cmdline') or ''

    def check_bootloader(self):
        """Fail before any change when the boot configuration cannot be read (no GRUB, unsupported OS)."""
        configured, reason = read_configured_cmdline(self.module, self.fs)
        if configured is None:
            self.fail('cannot manage the kernel command line on this host: %s' % reason)

    def run(self):
        self.validate_options()
        self.plan_cpus()
        self.check_bootloader()
        self.plan_systemd()
        self.plan_irqbalance()
        self.apply()
        if self.module._diff and self.diffs:
            self.result['diff'] = self.diffs
        return self.result


class _StepFailed(Exception):
    """A reload during rollback failed; collected, not raised to the user."""
