# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nfv.dpdk.hugepages module: its options, validation of the pools, mounts and boot reservation,
and their application with rollback. ``plugins/modules/hugepages.py`` is the thin module over it;
``nfv.dpdk.node_check`` plans it in check mode with other modules. The pools themselves are
``hugepage_pool.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import re

from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import (
    KernelArgsRollback, KernelArgsRollbackError, ensure_kernel_args,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import (
    KB_PER_GB, HugepagePool, HugepageSizeError, HugepageState, cpu_flags, format_size, parse_memory,
    parse_size, pool_dir, pool_label, set_pool,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, systemd_daemon_reload, systemd_stale_units

OWNED_KEYS = ['default_hugepagesz', 'hugepagesz', 'hugepages']
UNIT_NAME = 'nfv-dpdk-hugepages.service'
UNIT_PATH = '/etc/systemd/system/' + UNIT_NAME
UNIT_WANTS = '/etc/systemd/system/sysinit.target.wants/' + UNIT_NAME
# The kernel's hugepages=<node>:<count>,... syntax (commit b5389086ad7b) first shipped in 5.16.
PER_NODE_BOOT_KERNEL = (5, 16)
GIGANTIC_X86_KB = KB_PER_GB
DEFAULT_MIN_FREE_PERCENT = 10
DEFAULT_MIN_FREE_KB = KB_PER_GB

ARGUMENT_SPEC = dict(
    pools=dict(type='list', elements='dict', default=[], options=dict(
        size=dict(type='str', required=True),
        count=dict(type='int'),
        node=dict(type='int'),
    )),
    runtime=dict(type='bool', default=True),
    boot=dict(type='bool', default=False),
    default_size=dict(type='str'),
    min_free_memory=dict(type='str'),
    mounts=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True),
        size=dict(type='str'),
    )),
    compact=dict(type='bool', default=True),
    per_node_boot=dict(type='str', default='auto', choices=['auto', 'cmdline', 'systemd']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
)


def _mib(kb):
    return '%d MiB' % (kb // 1024)


def kernel_version(fs):
    """(major, minor) of the running kernel, from /proc/sys/kernel/osrelease."""
    release = fs.read('/proc/sys/kernel/osrelease') or platform.release()
    match = re.match(r'^(\d+)\.(\d+)', release or '')
    return (int(match.group(1)), int(match.group(2))) if match else None, release


def unit_text(requests):
    """A oneshot unit that sets per-node pools early at boot and fails when the kernel grants fewer pages."""
    lines = ['# Managed by nfv.dpdk.hugepages: per-NUMA-node hugepage pools at boot for kernels',
             '# without hugepages=<node>:<count> (Linux < 5.16). Do not edit.',
             '[Unit]',
             'Description=Per-NUMA-node hugepage pools (nfv.dpdk.hugepages)',
             'DefaultDependencies=no',
             'After=systemd-sysctl.service',
             'Before=sysinit.target kubelet.service',
             'ConditionPathIsDirectory=/sys/devices/system/node',
             '',
             '[Service]',
             'Type=oneshot',
             'RemainAfterExit=yes']
    for request in requests:
        path = pool_dir(request.size_kb, request.node) + '/nr_hugepages'
        lines.append("ExecStart=/bin/sh -c 'echo %d > %s'" % (request.count, path))
    for request in requests:
        path = pool_dir(request.size_kb, request.node) + '/nr_hugepages'
        # Fail the unit (visible in systemctl --failed) rather than start with fewer pages.
        lines.append("ExecStart=/bin/sh -c 'test \"$$(cat %s)\" -ge %d'" % (path, request.count))
    lines.extend(['', '[Install]', 'WantedBy=sysinit.target', ''])
    return '\n'.join(lines)


class PoolRequest:
    """One validated entry of ``pools``: a pool and the persistent pages wanted."""

    def __init__(self, index, size_kb, node, count):
        self.index = index
        self.size_kb = size_kb
        self.node = node
        self.count = count

    @property
    def key(self):
        return (self.size_kb, self.node)

    @property
    def label(self):
        return pool_label(self.size_kb, self.node)


class Hugepages:
    """The logic of nfv.dpdk.hugepages: validate everything, then change pools, mounts, boot."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.state = None
        self.requests = []
        self.default_size_kb = None
        self.mount_plan = []
        self.boot_args = None
        self.boot_method = None
        self.unit = None
        self.unit_content = None
        self.unit_enable = None
        self.bins = {}

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # -- validation ----------------------------------------------------------
    def _size(self, field, value):
        try:
            size_kb = parse_size(value)
        except HugepageSizeError as exc:
            self.fail('%s: %s' % (field, exc))
        if size_kb not in self.state.sizes:
            self.fail('%s: %s is not a hugepage size of this kernel; supported sizes: %s'
                      % (field, value, ', '.join(format_size(s) for s in self.state.sizes)))
        return size_kb

    def validate(self):
        self.state = HugepageState.read(self.fs)
        if not self.state.sizes:
            self.fail('this kernel has no hugepage pools (%s is missing or empty): it lacks CONFIG_HUGETLBFS'
                      % '/sys/kernel/mm/hugepages')
        present = self.params['state'] == 'present'
        self._validate_scope()
        self._validate_pools(present)
        self._validate_default_size(present)
        self._validate_flags()
        self._validate_boot()
        self._validate_memory()
        self._validate_mounts(present)

    def _validate_scope(self):
        """Refuse a call that would silently do nothing: pools neither set now nor reserved at boot."""
        if self.params['runtime'] or self.params['boot']:
            return
        if self.params['pools']:
            self.fail('runtime and boot are both false: the pools given would be set neither now (runtime=true) nor '
                      'at boot (boot=true); enable one of them, or leave pools out to only manage mounts')
        if not self.params['mounts'] and self.params['default_size'] is None:
            self.fail('runtime and boot are both false and no mounts or default_size are given: nothing to do; '
                      'set runtime=true (pools now) and/or boot=true (pools at boot)')

    def _validate_pools(self, present):
        seen = {}
        nodes = self.state.numa_nodes
        for index, entry in enumerate(self.params['pools']):
            field = 'pools[%d]' % index
            size_kb = self._size(field + '.size', entry['size'])
            count, node = entry.get('count'), entry.get('node')
            if present and count is None:
                self.fail('%s.count is required with state=present (a number of pages, 0 or more)' % field)
            if not present and count not in (None, 0):
                self.fail('%s.count must be omitted or 0 with state=absent, got %d' % (field, count))
            count = count or 0
            if count < 0:
                self.fail('%s.count must be 0 or more, got %d' % (field, count))
            if node is not None and node not in nodes:
                if not nodes:
                    self.fail('%s.node: this host has no per-node hugepage pools (no NUMA in %s); omit node for the '
                              'global pool' % (field, '/sys/devices/system/node'))
                self.fail('%s.node: NUMA node %d does not exist; nodes with hugepage pools: %s'
                          % (field, node, ', '.join(str(n) for n in nodes)))
            if node is not None and self.state.pool(size_kb, node) is None:
                self.fail('%s.node: NUMA node %d has no %s pool (%s is missing; a node without memory has none)'
                          % (field, node, format_size(size_kb), pool_dir(size_kb, node)))
            request = PoolRequest(index, size_kb, node, count)
            if request.key in seen:
                self.fail('%s: the %s is already given in pools[%d]' % (field, request.label, seen[request.key]))
            other = [r for r in self.requests if r.size_kb == size_kb and (r.node is None) != (node is None)]
            if other:
                self.fail('%s: give either the global %s pool (no node) or per-node %s pools, not both (see pools[%d])'
                          % (field, format_size(size_kb), format_size(size_kb), other[0].index))
            seen[request.key] = index
            self.requests.append(request)

    def _validate_default_size(self, present):
        value = self.params['default_size']
        if value is None:
            return
        if not present:
            self.fail('default_size cannot be used with state=absent')
        self.default_size_kb = self._size('default_size', value)
        running = self.state.default_size_kb
        if not self.params['boot'] and running and self.default_size_kb != running:
            self.fail('default_size: the default hugepage size can only change at boot; the running default is %s, '
                      'set boot=true to make it %s' % (format_size(running), format_size(self.default_size_kb)))

    def _validate_flags(self):
        flags = cpu_flags(self.fs)
        if flags is None or 'pdpe1gb' in flags:
            return
        for request in self.requests:
            if request.size_kb >= GIGANTIC_X86_KB and request.count > 0:
                self.fail('pools[%d].size: this CPU cannot map 1G pages (no pdpe1gb in /proc/cpuinfo flags); use 2M'
                          % request.index)
        if self.default_size_kb and self.default_size_kb >= GIGANTIC_X86_KB:
            self.fail('default_size: this CPU cannot map 1G pages (no pdpe1gb in /proc/cpuinfo flags); use 2M')

    def _validate_boot(self):
        if not self.params['boot']:
            return
        if self.params['state'] == 'absent':
            self.boot_args = []
            self.unit_content = None
            self._validate_unit()
            return
        per_node = [r for r in self.requests if r.node is not None]
        method = self.params['per_node_boot']
        if per_node and method != 'systemd':
            version, release = kernel_version(self.fs)
            if version is None or version < PER_NODE_BOOT_KERNEL:
                if method == 'cmdline':
                    self.fail('pools[%d].node: per-node pools at boot need the kernel parameter syntax '
                              'hugepages=<node>:<count>, which Linux %d.%d and later understand; the running kernel is %s. '
                              'Use per_node_boot=systemd (or auto), a global pool at boot, or runtime=true only'
                              % (per_node[0].index, PER_NODE_BOOT_KERNEL[0], PER_NODE_BOOT_KERNEL[1], release))
                method = 'systemd'
            else:
                method = 'cmdline'
        self.boot_method = method if per_node else 'cmdline'
        args = []
        if self.default_size_kb:
            args.append('default_hugepagesz=%s' % format_size(self.default_size_kb))
        unit_pools = []
        for size_kb in sorted(set(r.size_kb for r in self.requests)):
            of_size = sorted((r for r in self.requests if r.size_kb == size_kb), key=lambda r: r.node or 0)
            if of_size[0].node is None:
                args.extend(['hugepagesz=%s' % format_size(size_kb), 'hugepages=%d' % of_size[0].count])
            elif self.boot_method == 'cmdline':
                args.extend(['hugepagesz=%s' % format_size(size_kb),
                             'hugepages=%s' % ','.join('%d:%d' % (r.node, r.count) for r in of_size)])
            else:
                unit_pools.extend(of_size)
        self.boot_args = args
        self.unit_content = unit_text(unit_pools) if unit_pools else None
        self._validate_unit()

    def _validate_unit(self):
        """The boot unit this module owns: needed for per-node pools the kernel command line cannot hold."""
        # The unit is wholly this module's: removing it needs no backup left in /etc/systemd/system.
        self.unit = ManagedFile(self.module, UNIT_PATH, self.unit_content, fs=self.fs, backup=self.unit_content is not None)
        enabled = self.fs.islink(UNIT_WANTS)
        self.unit_enable = None
        if self.unit_content is not None and not enabled:
            self.unit_enable = 'enable'
        elif self.unit_content is None and (enabled or self.fs.exists(UNIT_PATH)):
            self.unit_enable = 'disable' if enabled else None
        if self.unit_enable:
            self.bins['systemctl'] = self.module.get_bin_path('systemctl', required=True)

    def _margin(self, total_kb):
        value = self.params['min_free_memory']
        if value is None:
            return max(total_kb * DEFAULT_MIN_FREE_PERCENT // 100, DEFAULT_MIN_FREE_KB)
        try:
            return parse_memory(value, total_kb)
        except HugepageSizeError as exc:
            self.fail('min_free_memory: %s (use a size such as 1G or 512M, or a percentage such as 10%%)' % exc)

    def _current(self, size_kb, node=None):
        pool = self.state.pool(size_kb, node)
        return pool.persistent if pool else 0

    def _check_fits(self, what, where, before, after, total_kb, grow_only=True):
        margin = self._margin(total_kb)
        if (after > before or not grow_only) and after > total_kb - margin:
            self.fail('pools: %s %s would take %s, more than %s can spare: its memory is %s and min_free_memory '
                      'keeps %s free (at most %s of hugepages)'
                      % (what, where, _mib(after), 'the node' if where.startswith('on NUMA') else 'this host',
                         _mib(total_kb), _mib(margin), _mib(max(total_kb - margin, 0))))

    def _validate_memory(self):
        """Refuse pools that do not fit in a node's or the host's memory minus the margin.

        At runtime the pools after the change count (listed pools as requested, the others as they are)
        and only growing requests are refused. At boot the listed pools are the whole reservation.
        """
        self._margin(0)  # reject a malformed min_free_memory even when no pool grows
        if self.params['state'] == 'absent':
            return
        wanted = dict((r.key, r.count) for r in self.requests)
        nodes = sorted(set(r.node for r in self.requests if r.node is not None))
        if self.params['runtime']:
            for node in nodes:
                total_kb = self.state.node_memory_kb(node)
                if total_kb is not None:
                    before = sum(self._current(size, node) * size for size in self.state.sizes)
                    after = sum(wanted.get((size, node), self._current(size, node)) * size for size in self.state.sizes)
                    self._check_fits('hugepages', 'on NUMA node %d' % node, before, after, total_kb)
            if self.state.mem_total_kb:
                before = after = 0
                for size in self.state.sizes:
                    current = self._current(size)
                    before += current * size
                    if (size, None) in wanted:
                        after += wanted[(size, None)] * size
                    elif any(key[0] == size for key in wanted):
                        after += sum(wanted.get((size, node), self._current(size, node)) for node in self.state.numa_nodes) * size
                    else:
                        after += current * size
                self._check_fits('hugepages', 'on this host', before, after, self.state.mem_total_kb)
        if self.params['boot']:
            for node in nodes:
                total_kb = self.state.node_memory_kb(node)
                if total_kb is not None:
                    after = sum(r.count * r.size_kb for r in self.requests if r.node == node)
                    self._check_fits('the boot reservation', 'on NUMA node %d' % node, 0, after, total_kb, grow_only=False)
            if self.state.mem_total_kb:
                after = sum(r.count * r.size_kb for r in self.requests)
                self._check_fits('the boot reservation', 'on this host', 0, after, self.state.mem_total_kb, grow_only=False)

    def _validate_mounts(self, present):
        seen = set()
        for index, entry in enumerate(self.params['mounts']):
            field = 'mounts[%d]' % index
            path = entry['path']
            if not path or not os.path.isabs(path):
                self.fail('%s.path must be an absolute path, got %r' % (field, path))
            path = os.path.normpath(path)
            if path in seen:
                self.fail('%s.path: %s is given twice' % (field, path))
            seen.add(path)
            if entry.get('size') is not None:
                size_kb = self._size(field + '.size', entry['size'])
            else:
                size_kb = self.default_size_kb or self.state.default_size_kb
            current = self.state.mount_at(path)
            action = 'none'
            if present:
                if current is None:
                    action = 'mounted'
                elif current[1] is None:
                    self.fail('%s.path: %s is already a %s mount, not hugetlbfs; unmount it first' % (field, path, current[0]))
                elif current[1].size_kb != size_kb:
                    self.fail('%s: %s is mounted with page size %s, not %s; hugetlbfs cannot change its page size on '
                              'remount, unmount it first' % (field, path, format_size(current[1].size_kb), format_size(size_kb)))
            elif current is not None:
                if current[1] is None:
                    self.fail('%s.path: %s is a %s mount, not hugetlbfs; this module only unmounts hugetlbfs'
                              % (field, path, current[0]))
                action = 'unmounted'
                size_kb = current[1].size_kb
            self.mount_plan.append({'path': path, 'size_kb': size_kb, 'action': action})
        needed = set('mount' if m['action'] == 'mounted' else 'umount' for m in self.mount_plan if m['action'] != 'none')
        for name in sorted(needed):
            self.bins[name] = self.module.get_bin_path(name, required=True)

    # -- changes -----------------------------------------------------------------
    def _pool_changes(self):
        changes = [r for r in self.requests if self._current(r.size_kb, r.node) != r.count]
        # Free memory before taking it: shrinking pools first.
        return sorted(changes, key=lambda r: (r.count > self._current(r.size_kb, r.node), r.index))

    def _restore_pools(self, done):
        problems = []
        for request, previous in reversed(done):
            try:
                outcome = set_pool(self.fs, request.size_kb, previous, request.node, compact=False)
                if outcome['obtained'] != previous:
                    problems.append('%s restored to %d of %d pages' % (request.label, outcome['obtained'], previous))
            except (IOError, OSError) as exc:
                problems.append('%s not restored: %s' % (request.label, exc))
        if problems:
            return 'restoring the previous pools was incomplete: %s' % '; '.join(problems)
        if done:
            return 'the previous pools were restored'
        return 'no pool was changed'

    def apply_pools(self, compacted, done, failure):
        """Set the pools, shrinking ones first; ``done`` collects (request, previous) for a restore."""
        for request in self._pool_changes():
            previous = self._current(request.size_kb, request.node)
            done.append((request, previous))
            try:
                outcome = set_pool(self.fs, request.size_kb, request.count, request.node, compact=self.params['compact'])
            except (IOError, OSError) as exc:
                failure('pools[%d]: setting the %s to %d pages failed: %s' % (request.index, request.label, request.count, exc))
            compacted[request.key] = outcome['compacted']
            if outcome['obtained'] != request.count:
                failure('pools[%d]: %s: requested %d pages, obtained %d (%s; memory short or fragmented%s)'
                        % (request.index, request.label, request.count, outcome['obtained'],
                           'after compacting memory and one retry' if outcome['compacted'] else 'no retry',
                           ', reserve them at boot with boot=true and runtime=false' if request.size_kb >= GIGANTIC_X86_KB else ''),
                        requested=request.count, obtained=outcome['obtained'])

    def apply_mounts(self, on_failure):
        done = []
        for mount in self.mount_plan:
            if mount['action'] == 'none' or self.module.check_mode:
                continue
            path = mount['path']
            if mount['action'] == 'mounted':
                real = self.fs.path(path)
                try:
                    if not os.path.isdir(real):
                        os.makedirs(real, 0o755)
                except OSError as exc:
                    on_failure('mounts: cannot create the mount point %s: %s%s' % (path, exc, self._undo_mounts(done)))
                argv = [self.bins['mount'], '-t', 'hugetlbfs', '-o', 'pagesize=%s' % format_size(mount['size_kb']), 'nodev', path]
            else:
                argv = [self.bins['umount'], path]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                undone = self._undo_mounts(done)
                on_failure('mounts: %s failed (rc %d): %s%s' % (' '.join(argv), rc, (err or out).strip(), undone))
            done.append(mount)
        return done

    def _undo_mounts(self, done):
        problems = []
        for mount in reversed(done):
            if mount['action'] == 'mounted':
                argv = [self.bins['umount'] if 'umount' in self.bins else self.module.get_bin_path('umount', required=True),
                        mount['path']]
            else:
                argv = [self.bins['mount'] if 'mount' in self.bins else self.module.get_bin_path('mount', required=True),
                        '-t', 'hugetlbfs', '-o', 'pagesize=%s' % format_size(mount['size_kb']), 'nodev', mount['path']]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                problems.append('%s: %s' % (' '.join(argv), (err or out).strip()))
        if problems:
            return '; undoing the mounts made failed: %s' % '; '.join(problems)
        return ''

    # -- result -------------------------------------------------------------------
    @staticmethod
    def _pool_view(pool):
        if pool is None:
            return {'total': 0, 'free': 0, 'surplus': 0, 'persistent': 0}
        return {'total': pool.total, 'free': pool.free, 'surplus': pool.surplus, 'persistent': pool.persistent}

    def _pools_result(self, changed_keys, compacted):
        result = []
        for request in self.requests:
            before = self.state.pool(request.size_kb, request.node)
            if request.key in changed_keys and not self.module.check_mode:
                after = self._pool_view(HugepagePool.read(self.fs, request.size_kb, request.node))
            elif request.key in changed_keys:
                # Predicted: the persistent pages change by the difference, free pages with them.
                view = self._pool_view(before)
                delta = request.count - view['persistent']
                after = {'total': view['total'] + delta, 'free': max(view['free'] + delta, 0),
                         'surplus': view['surplus'], 'persistent': request.count}
            else:
                after = self._pool_view(before)
            result.append({'size': format_size(request.size_kb), 'size_kb': request.size_kb, 'node': request.node,
                           'requested': request.count, 'compacted': compacted.get(request.key, False),
                           'before': self._pool_view(before), 'after': after})
        return result

    def _pools_diff(self, changes):
        def line(request, count):
            where = '' if request.node is None else ' node%d' % request.node
            return '%s%s: %d\n' % (format_size(request.size_kb), where, count)
        return {'before_header': 'hugepage pools', 'after_header': 'hugepage pools',
                'before': ''.join(line(r, self._current(r.size_kb, r.node)) for r in changes),
                'after': ''.join(line(r, r.count) for r in changes)}

    def _mounts_diff(self, changes):
        def line(mount):
            return '%s hugetlbfs pagesize=%s\n' % (mount['path'], format_size(mount['size_kb']))
        return {'before_header': 'hugetlbfs mounts', 'after_header': 'hugetlbfs mounts',
                'before': ''.join(line(m) for m in changes if m['action'] == 'unmounted'),
                'after': ''.join(line(m) for m in changes if m['action'] == 'mounted')}

    def apply_unit(self, result, diffs, undo, failure):
        """Write (or remove) the per-node boot unit and enable (or disable) it."""
        result['boot_method'] = self.boot_method
        result['boot_unit'] = UNIT_PATH if self.unit_content is not None else None

        def systemctl(verb):
            result['changed'] = True
            if self.module.check_mode:
                return
            argv = [self.bins['systemctl'], verb, UNIT_NAME]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                failure('boot: %s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
            undo['enable'] = verb

        if self.unit_enable == 'disable':
            systemctl('disable')  # while the unit file still exists
        try:
            unit = self.unit.apply()
        except (IOError, OSError) as exc:
            failure('boot: cannot write %s: %s' % (UNIT_PATH, exc))
        if unit['changed']:
            result['changed'] = True
            undo['unit'] = not self.module.check_mode
            if unit.get('diff'):
                diffs.append(unit['diff'])
            if not self.module.check_mode:
                systemd_daemon_reload(self.module, self.fs)
        elif systemd_stale_units(self.module, [UNIT_NAME], self.fs):
            # The file is right but systemd runs an older definition (a run killed during daemon-reload).
            result['changed'] = True
            if not self.module.check_mode:
                systemd_daemon_reload(self.module, self.fs)
        if self.unit_enable == 'enable':
            systemctl('enable')

    def run(self):
        self.validate()
        result = {'changed': False, 'reboot_required': False, 'mounts': [],
                  'default_size': format_size(self.state.default_size_kb) if self.state.default_size_kb else None}
        diffs = []
        compacted = {}
        undo = {'boot': KernelArgsRollback(), 'pools': [], 'unit': False, 'enable': None}

        def failure(msg, **kwargs):
            notes = [self._restore_pools(undo['pools'])]
            if undo['unit']:
                try:
                    exact = self.unit.restore()
                    done = 'restored byte for byte' if self.unit.existed_before else 'removed again'
                    notes.append('%s %s' % (UNIT_PATH, done if exact else 'NOT restored: it does not read back as before'))
                except (IOError, OSError) as exc:
                    notes.append('%s NOT restored: %s' % (UNIT_PATH, exc))
            if undo['enable']:
                opposite = 'disable' if undo['enable'] == 'enable' else 'enable'
                self.module.run_command([self.bins['systemctl'], opposite, UNIT_NAME])
            if undo['boot'].pending:
                # The files as they were, byte for byte, not the old tokens again (which would regroup them).
                try:
                    notes.append('boot configuration put back: %s' % undo['boot'].restore())
                except KernelArgsRollbackError as exc:
                    notes.append('boot configuration NOT fully put back: %s' % exc)
            self.fail('%s; %s' % (msg, '; '.join(notes)), **kwargs)

        # The boot configuration first: the backend refuses unsupported platforms and files it
        # cannot edit before anything changed. Runtime failures below put it back.
        if self.params['boot']:
            boot = ensure_kernel_args(self.module, owned_keys=OWNED_KEYS, desired=self.boot_args, rollback=undo['boot'])
            result['cmdline'] = ' '.join(self.boot_args)
            result['configured_cmdline'] = boot.get('configured_cmdline')
            result['reboot_required'] = bool(boot.get('reboot_required'))
            if boot.get('backup_file'):
                result['backup_file'] = boot['backup_file']
            if boot.get('changed'):
                result['changed'] = True
                diff = boot.get('diff')
                diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
            self.apply_unit(result, diffs, undo, failure)

        pool_changes = self._pool_changes() if self.params['runtime'] else []
        if pool_changes:
            result['changed'] = True
            diffs.append(self._pools_diff(pool_changes))
            if not self.module.check_mode:
                self.apply_pools(compacted, undo['pools'], failure)

        mount_changes = [m for m in self.mount_plan if m['action'] != 'none']
        if mount_changes:
            result['changed'] = True
            diffs.append(self._mounts_diff(mount_changes))
            self.apply_mounts(failure)
        result['mounts'] = [{'path': m['path'], 'size': format_size(m['size_kb']), 'action': m['action']} for m in self.mount_plan]
        result['pools'] = self._pools_result(set(r.key for r in pool_changes), compacted)
        if self.module._diff and diffs:
            result['diff'] = diffs
        return result
