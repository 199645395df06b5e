# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter for playbooks/audit.yml: what drifted on a node, from the preparation's check-mode results.

Documentation: plugins/filter/dpdk_audit_drift.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelCmdline, KernelCmdlineError

# The parameter keys each kernel-argument module owns (docs/DEVELOPING.md); iommu_grub returns its own.
OWNED_KEYS = {
    'iommu_grub': ['intel_iommu', 'amd_iommu', 'iommu'],
    'cpu_isolation': ['isolcpus', 'nohz_full', 'rcu_nocbs', 'irqaffinity'],
    'hugepages': ['default_hugepagesz', 'hugepagesz', 'hugepages'],
}
# What re-applies each area: the site.yml phase tags (the kernel phase reboots only with the reboot tag).
FIX = {
    'kernel': 'site.yml --tags kernel,reboot',
    'reboot': 'site.yml --tags kernel,reboot (reboots into the configured arguments)',
    'hugepages': 'site.yml --tags hugepages',
    'sriov': 'site.yml --tags sriov',
    'bind': 'site.yml --tags bind',
    'kubelet': 'site.yml --tags kubelet',
}
# Results of these keys are audited; the order is the order of the drift items.
AREAS = ('iommu_grub', 'cpu_isolation', 'hugepages', 'mounts', 'sriov_vfs', 'driver_bind', 'kubelet_config')
# Files of cpu_isolation that are the kernel command line itself (reported with the arguments).
_BOOT_FILES = ('/etc/default/grub', '/boot/', '/etc/kernel/cmdline')


def _ran(result):
    """Whether a registered result is of a task that ran (not skipped, not missing)."""
    return isinstance(result, dict) and bool(result) and not result.get('skipped', False)


def _item(area, what, expected, found, fix=None):
    return {'area': area, 'what': what, 'expected': expected, 'found': found, 'fix': fix or FIX[area]}


def _tokens(cmdline, keys):
    """The parameters of ``cmdline`` with ``keys``, as text, or None when the line is unknown."""
    if cmdline is None:
        return None
    try:
        return ' '.join(str(arg) for arg in KernelCmdline.parse(cmdline).select(keys))
    except KernelCmdlineError:
        return None


def _wanted_args(module, result):
    wanted = result.get('args') if module == 'iommu_grub' else (
        result.get('kernel_args') if module == 'cpu_isolation' else result.get('cmdline'))
    if wanted is None:
        return None
    return wanted if isinstance(wanted, string_types) else ' '.join(wanted)


def _kernel_items(module, result, configured_cmdline):
    keys = result.get('owned_keys') or OWNED_KEYS[module]
    expected = _wanted_args(module, result)
    if expected is None:
        return []
    expected = _tokens(expected, keys) if expected else ''
    running = _tokens(result.get('running_cmdline'), keys)
    configured = _tokens(configured_cmdline, keys)
    label = 'kernel arguments (%s)' % module
    if configured is not None and configured != expected:
        found = 'configured %s' % none(configured)
        if running is not None and running != expected:
            found += ', running %s' % none(running)
        return [_item('kernel', label, none(expected), found)]
    if configured is None and module == 'iommu_grub' and result.get('changed'):
        return [_item('kernel', label, none(expected), 'configured differently (the configured command line '
                      'could not be read; run with --diff)')]
    if result.get('reboot_required') or (running is not None and running != expected):
        return [_item('reboot', '%s: configured but not running' % label, none(expected),
                      'running %s' % none(running))]
    return []


def none(text):
    return text or '(none)'


def _cpu_isolation_files(result):
    items = []
    files = [path for path in result.get('files') or [] if not path.startswith(_BOOT_FILES)]
    if files:
        items.append(_item('kernel', 'CPU isolation files (systemd, irqbalance)', 'as configured',
                           'would change: %s' % ', '.join(files)))
    for sentence in result.get('systemd_stale') or []:
        items.append(_item('kernel', 'CPU isolation in systemd', 'applied', 'not applied: %s' % sentence))
    return items


def _pool_items(result):
    items = []
    for pool in result.get('pools') or []:
        before = (pool.get('before') or {}).get('persistent')
        after = (pool.get('after') or {}).get('persistent')
        if before != after:
            where = 'all nodes' if pool.get('node') is None else 'node %s' % pool['node']
            items.append(_item('hugepages', 'hugepages %s on %s' % (pool.get('size'), where),
                               '%s pages' % after, '%s pages' % before))
    for mount in result.get('mounts') or []:
        if mount.get('action') not in (None, 'none'):
            items.append(_item('hugepages', 'hugetlbfs mount %s (%s)' % (mount.get('path'), mount.get('size')),
                               'mounted', 'would be %s' % mount['action']))
    return items


def _fstab_items(result):
    items = []
    for entry in result.get('results') or []:
        if entry.get('changed') and not entry.get('skipped'):
            path = (entry.get('item') or {}).get('path') or entry.get('name')
            items.append(_item('hugepages', 'hugetlbfs mount %s in /etc/fstab' % path,
                               'mounted, in /etc/fstab (%s)' % entry.get('opts', 'defaults'),
                               'missing or different'))
    return items


def _vf_attribute_items(pf):
    """One item per VF attribute ``ip link set ... vf N key value`` would set."""
    items = []
    vfs = dict((vf.get('index'), vf) for vf in pf.get('vfs') or [])
    for argv in pf.get('vf_commands') or []:
        try:
            position = list(argv).index('vf')
            index = int(argv[position + 1])
        except (ValueError, IndexError):
            items.append(_item('sriov', 'VF attributes of PF %s' % pf.get('address'), ' '.join(argv), 'different'))
            continue
        pairs = argv[position + 2:]
        current = vfs.get(index) or {}
        if current.get('planned'):
            # A VF still to be created: the VF count item names it.
            continue
        for key, value in zip(pairs[0::2], pairs[1::2]):
            attribute = {'state': 'link_state', 'rate': 'max_tx_rate'}.get(key, key)
            found = current.get(attribute)
            if isinstance(found, bool):
                # ip link spells spoofchk and trust on/off, the PF reports them as booleans.
                found = 'on' if found else 'off'
            items.append(_item('sriov', 'PF %s VF %d %s' % (pf.get('address'), index, key), str(value),
                               'none' if found is None else str(found)))
    return items


def _sriov_items(result):
    items = []
    for pf in result.get('pfs') or []:
        before, wanted = pf.get('num_vfs_before') or 0, pf.get('num_vfs') or 0
        explained = False
        if before != wanted:
            explained = True
            items.append(_item('sriov', 'PF %s VF count' % pf.get('address'), '%d VFs' % wanted, '%d VFs' % before))
        vf_items = _vf_attribute_items(pf)
        items.extend(vf_items)
        explained = explained or bool(vf_items)
        if pf.get('link_commands'):
            explained = True
            items.append(_item('sriov', 'PF %s link (%s)' % (pf.get('address'), pf.get('interface')), 'up', 'down'))
        if pf.get('changed') and not explained:
            items.append(_item('sriov', 'PF %s settings' % pf.get('address'), 'as configured',
                               'different (sriov_drivers_autoprobe; run with --diff)'))
    if result.get('units'):
        items.append(_item('sriov', 'VF boot units', 'as configured', 'missing or different: %s'
                           % ', '.join(result['units'])))
    return items


def _bind_items(result):
    items = []
    for entry in result.get('results') or []:
        if not _ran(entry):
            continue
        driver = (entry.get('item') or {}).get('driver')
        for device in entry.get('devices') or []:
            if device.get('changed'):
                found = 'no such VF yet' if device.get('planned') else (device.get('driver_before') or 'no driver')
                items.append(_item('bind', 'device %s driver' % device.get('address'), str(driver), found))
        if entry.get('loaded_modules'):
            items.append(_item('bind', 'kernel modules', 'loaded: %s' % ', '.join(entry['loaded_modules']),
                               'not loaded'))
        if entry.get('units'):
            items.append(_item('bind', 'bind boot units (%s)' % driver, 'as configured',
                               'missing or different: %s' % ', '.join(entry['units'])))
    return items


def _kubelet_items(result, before_text):
    if result.get('created'):
        return [_item('kubelet', 'kubelet configuration %s' % result.get('path'), 'present', 'missing')]
    items = []
    if result.get('changed'):
        import yaml  # only needed here; the controller has PyYAML with ansible-core
        try:
            before = yaml.safe_load(before_text or '') or {}
            after = yaml.safe_load(result.get('config') or '') or {}
        except yaml.YAMLError:
            before = after = None
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    items.append(_item('kubelet', 'kubelet %s' % key,
                                       _show(after.get(key)) if key in after else '(not set)',
                                       _show(before.get(key)) if key in before else '(not set)'))
        if not items:
            items.append(_item('kubelet', 'kubelet configuration %s' % result.get('path'), 'as configured',
                               'different (run with --diff)'))
    for stale in result.get('stale_state_files') or []:
        items.append(_item('kubelet', 'kubelet checkpoint %s' % stale.get('path'), 'accepted by the kubelet',
                           'stale: %s' % stale.get('reason')))
    return items


def _show(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        import json
        return json.dumps(value, sort_keys=True)
    return str(value)


def dpdk_audit_drift(results):
    """Drift items (area, what, expected, found, fix) from the check-mode results of the preparation."""
    if not isinstance(results, dict):
        raise AnsibleFilterError('dpdk_audit_drift: expects a dict of registered results, got %s'
                                 % type(results).__name__)
    unknown = sorted(set(results) - set(AREAS) - {'configured_cmdline', 'kubelet_config_before'})
    if unknown:
        raise AnsibleFilterError('dpdk_audit_drift: unknown keys %s (allowed: %s, configured_cmdline, '
                                 'kubelet_config_before)' % (', '.join(unknown), ', '.join(AREAS)))
    configured = results.get('configured_cmdline')
    items = []
    for module in ('iommu_grub', 'cpu_isolation', 'hugepages'):
        if _ran(results.get(module)):
            items.extend(_kernel_items(module, results[module], configured))
    if _ran(results.get('cpu_isolation')):
        items.extend(_cpu_isolation_files(results['cpu_isolation']))
    if _ran(results.get('mounts')):
        items.extend(_fstab_items(results['mounts']))
    if _ran(results.get('hugepages')):
        items.extend(_pool_items(results['hugepages']))
    if _ran(results.get('sriov_vfs')):
        items.extend(_sriov_items(results['sriov_vfs']))
    if _ran(results.get('driver_bind')):
        items.extend(_bind_items(results['driver_bind']))
    if _ran(results.get('kubelet_config')):
        items.extend(_kubelet_items(results['kubelet_config'], results.get('kubelet_config_before')))
    return items


def dpdk_audit_areas(results):
    """The keys of ``results`` whose task ran: what the audit looked at."""
    return [area for area in AREAS if _ran((results or {}).get(area))]


class FilterModule(object):
    """Audit filters."""

    def filters(self):
        return {
            'dpdk_audit_drift': dpdk_audit_drift,
            'dpdk_audit_areas': dpdk_audit_areas,
        }
