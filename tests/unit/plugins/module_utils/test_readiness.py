# -*- coding: utf-8 -*-
"""Readiness rules on hand-written facts: skipped sections, severities, order, summary."""

from ansible_collections.nfv.dpdk.plugins.module_utils.readiness import (
    FIX_HUGEPAGES, FIX_IOMMU, evaluate, summarize)


def ids(findings):
    return [f['id'] for f in findings]


def test_nothing_gathered_nothing_found():
    assert evaluate({}) == []
    assert summarize([]) == {'errors': 0, 'warnings': 0, 'info': 0, 'ready': True}


def test_errors_come_first_and_summary_counts():
    facts = {
        'cpu': {'vendor': 'GenuineIntel', 'supports_1g_pages': False, 'hypervisor': False, 'offline': '3',
                'online': '0-2', 'nodes': [{'id': 0}]},
        'hugepages': {'pools': [{'size_kb': 2048, 'total': 0, 'persistent': 0}], 'node_pools': [], 'mounts': []},
        'iommu': {'enabled': False},
        'kernel': {'cmdline': 'ro quiet'},
    }
    findings = evaluate(facts)
    assert ids(findings) == ['iommu_disabled', 'no_hugepages', 'no_1g_hugepages', 'cpus_offline']
    assert findings[0]['fix'].startswith(FIX_IOMMU) and findings[1]['fix'] == FIX_HUGEPAGES
    assert summarize(findings) == {'errors': 2, 'warnings': 1, 'info': 1, 'ready': False}


def test_iommu_turned_off_on_the_command_line():
    facts = {'iommu': {'enabled': False}, 'cpu': {'vendor': 'GenuineIntel'},
             'kernel': {'cmdline': 'intel_iommu=on iommu=off'}}
    finding = evaluate(facts)[0]
    assert 'turns it off (iommu=off)' in finding['message']
    assert 'removes iommu=off' in finding['fix']


def test_iommu_on_without_passthrough_is_info():
    findings = evaluate({'iommu': {'enabled': True}, 'kernel': {'cmdline': 'intel_iommu=on'}})
    assert [(f['id'], f['severity']) for f in findings] == [('iommu_not_passthrough', 'info')]
    assert evaluate({'iommu': {'enabled': True}, 'kernel': {'cmdline': 'intel_iommu=on iommu=pt'}}) == []


def test_reboot_pending_compares_tokens_not_substrings():
    kernel = {'cmdline': 'intel_iommu=on,sm_on iommu=pt', 'cmdline_configured': 'intel_iommu=on iommu=pt'}
    finding = evaluate({'kernel': kernel})[0]
    assert finding['id'] == 'reboot_pending' and finding['subjects'] == ['intel_iommu']
    kernel = {'cmdline': 'BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt quiet', 'cmdline_configured': 'quiet intel-iommu=on iommu=pt'}
    assert evaluate({'kernel': kernel}) == []


def test_secure_boot_without_lockdown_file():
    findings = evaluate({'kernel': {'cmdline': '', 'secure_boot': True, 'lockdown': None}, 'iommu': {'enabled': True},
                         })
    assert ('uio_blocked_by_lockdown', 'warning') in [(f['id'], f['severity']) for f in findings]
