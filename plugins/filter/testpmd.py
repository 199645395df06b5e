# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for testpmd runs: its log as data, a verdict, and the Pod that runs it.

Documentation of each filter: plugins/filter/<filter name>.yml.
The logic lives in plugins/module_utils/testpmd.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as _testpmd


def _wrap(function):
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except _testpmd.InvalidTestpmdInput as exc:
            raise AnsibleFilterError('%s: %s' % (function.__name__, exc))
    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    return call


def testpmd_stats(log, duration=None):
    """Structured facts of one testpmd run from its output."""
    return _testpmd.parse_testpmd_log(log, duration=duration)


def testpmd_verdict(stats, min_mpps=0.0, max_drop_ratio=0.0, require_numa_alignment=False, min_packets=1,
                    require_rx=None, require_tx=None, exit_code=None, require_placement=False, expected_numa_node=None,
                    isolated_cpus=None, cpu_request=None, expected_pmd=None, peer_tx_packets=None, rx_margin=0.1):
    """Pass or fail a testpmd run from testpmd_stats output, thresholds and the placement it must prove."""
    return _testpmd.testpmd_verdict(stats, min_mpps=min_mpps, max_drop_ratio=max_drop_ratio,
                                    require_numa_alignment=require_numa_alignment, min_packets=min_packets,
                                    require_rx=require_rx, require_tx=require_tx, exit_code=exit_code,
                                    require_placement=require_placement, expected_numa_node=expected_numa_node,
                                    isolated_cpus=isolated_cpus, cpu_request=cpu_request, expected_pmd=expected_pmd,
                                    peer_tx_packets=peer_tx_packets, rx_margin=rx_margin)


def testpmd_pod_manifest(params):
    """The Kubernetes Pod that runs testpmd once."""
    return _testpmd.pod_manifest(params)


def testpmd_podman_manifest(manifest, hugepages_dir=_testpmd.HUGEPAGES_MOUNT, pci_devices=None, vfio_groups=None, cpuset=None,
                            wait_for_cpuset=0):
    """The testpmd Pod rewritten for podman kube play on the node."""
    return _testpmd.podman_manifest(manifest, hugepages_dir=hugepages_dir, pci_devices=pci_devices, vfio_groups=vfio_groups,
                                    cpuset=cpuset, wait_for_cpuset=wait_for_cpuset)


class FilterModule(object):
    """testpmd filters."""

    def filters(self):
        return {
            'testpmd_stats': _wrap(testpmd_stats),
            'testpmd_verdict': _wrap(testpmd_verdict),
            'testpmd_pod_manifest': _wrap(testpmd_pod_manifest),
            'testpmd_podman_manifest': _wrap(testpmd_podman_manifest),
        }
