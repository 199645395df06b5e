# -*- coding: utf-8 -*-
"""testpmd_stats' EAL facts and testpmd_verdict's strict placement check.

Fixtures in tests/unit/fixtures/testpmd/ (README there says which are captured and which
are composed from DPDK's format strings). ``pod_numa1_mac_igbvf.log`` is one pod of the
NUMA-aligned proof: the VF 0000:81:10.0 on node 1, cgroup cpuset 3, 256 MiB of 2 MiB
hugepages asked of EAL on node 1; each test below breaks one fact of it.
"""

import json
import os
import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.filter.testpmd import FilterModule
from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'testpmd')
FILTERS = FilterModule().filters()
POD = 'pod_numa1_mac_igbvf'
STRICT = {'require_placement': True, 'expected_numa_node': 1, 'isolated_cpus': '1,3', 'cpu_request': 1,
          'expected_pmd': 'net_e1000_igb_vf'}


def log(name):
    with open(os.path.join(FIXTURES, name + '.log')) as handle:
        return handle.read()


def pod_log(start=None, sample=None, drop_sample=False, replace=None):
    """The pod fixture with its launcher events changed: ``start``/``sample`` update the JSON, None values delete keys."""
    lines = []
    for line in log(POD).split('\n'):
        stamp, separator, rest = line.partition(' ')
        if rest.startswith(tp.LAUNCHER_PREFIX):
            event = json.loads(rest[len(tp.LAUNCHER_PREFIX):])
            changes = {'start': start, 'sample': sample}.get(event['event'])
            if event['event'] == 'sample' and drop_sample:
                continue
            for key, value in (changes or {}).items():
                if value is None:
                    event.pop(key, None)
                else:
                    event[key] = value
            line = '%s%s%s %s' % (stamp, separator, tp.LAUNCHER_PREFIX, json.dumps(event))
        lines.append(line)
    text = '\n'.join(lines)
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    return text


def judge(text, **kwargs):
    options = dict(STRICT)
    options.update(kwargs)
    return FILTERS['testpmd_verdict'](FILTERS['testpmd_stats'](text), **options)


def placement_reasons(text, **kwargs):
    return [reason for reason in judge(text, **kwargs)['reasons'] if reason.startswith('placement: ')]


# -- the parser's new facts ------------------------------------------------------

def test_dpdk_version_from_eal_v_of_a_real_22_11_run():
    stats = FILTERS['testpmd_stats'](log('txonly_null_version'))
    assert stats['dpdk_version'] == '22.11.11'
    assert stats['eal_init_failed'] is False and stats['rte_exit'] is None and stats['panic'] is None
    assert stats['eal']['lcores_detected'] == 2 and stats['eal']['numa_nodes_detected'] == 1
    assert stats['eal']['iova_mode'] == 'VA'
    assert stats['eal']['probed'] == [] and stats['eal']['hugepage_warnings'] == []
    assert stats['pod_samples'] == []


def test_version_of_a_release_candidate_and_of_the_launcher():
    assert tp.parse_testpmd_log("EAL: RTE Version: 'DPDK 24.11.0-rc4'")['dpdk_version'] == '24.11.0-rc4'
    start = 'nfv.dpdk.testpmd: {"event": "start", "cpus": "0-1", "dpdk_version": "DPDK 23.11.2"}'
    assert tp.parse_testpmd_log(start)['dpdk_version'] == '23.11.2'
    assert tp.parse_testpmd_log(log('io_null'))['dpdk_version'] is None


@pytest.mark.parametrize('name, version, cause', [
    ('eal_nohuge', None, 'Cannot init EAL: Permission denied'),
    ('eal_bad_vdev', None, 'Cannot init EAL: No such device'),
    ('eal_nohuge_24_11', '24.11.3', 'Cannot init EAL: Permission denied'),
])
def test_eal_init_failure_and_the_rte_exit_cause_in_22_11_and_24_11_forms(name, version, cause):
    stats = FILTERS['testpmd_stats'](log(name))
    assert stats['eal_init_failed'] is True
    assert stats['rte_exit'] == {'code': 1, 'cause': cause}
    assert stats['dpdk_version'] == version
    # 24.11 prints the cause bare, without "Cause:": it is an error line all the same.
    assert any(cause in line for line in stats['errors'])


@pytest.mark.parametrize('name', ['eal_mbuf_pool_fail', 'mbuf_pool_fail_24_11'])
def test_rte_exit_after_a_good_eal_init_is_not_an_eal_init_failure(name):
    stats = FILTERS['testpmd_stats'](log(name))
    assert stats['eal_init_failed'] is False
    assert stats['rte_exit'] == {'code': 1, 'cause': 'Creation of mbuf pool for socket 0 failed: Cannot allocate memory'}
    assert 'Creation of mbuf pool for socket 0 failed: Cannot allocate memory' in [line.replace('Cause: ', '') for line in stats['errors']]
    result = FILTERS['testpmd_verdict'](stats)
    assert result['passed'] is False
    assert any('Creation of mbuf pool' in reason for reason in result['reasons'])


def test_fatal_eal_alert_of_22_11_marks_eal_init_failed():
    stats = tp.parse_testpmd_log('EAL: FATAL: Cannot init memory\nEAL: Cannot init memory\n')
    assert stats['eal_init_failed'] is True and stats['rte_exit'] is None


@pytest.mark.parametrize('text', [
    'PANIC in rte_eal_init():\nCannot init tailq\n',           # 22.11: rte_log without the EAL prefix
    'EAL: PANIC in rte_eal_init():\nCannot init tailq\n',      # 24.11: EAL_LOG
])
def test_rte_panic_function_and_message(text):
    stats = tp.parse_testpmd_log(text)
    assert stats['panic'] == {'function': 'rte_eal_init', 'message': 'Cannot init tailq'}
    assert 'Cannot init tailq' in stats['errors']


def test_eal_probe_lines_of_22_11_and_24_11_and_a_failed_probe():
    stats = tp.parse_testpmd_log(
        'EAL: Probe PCI driver: net_e1000_igb_vf (8086:10ca) device: 0000:41:10.0 (socket 0)\n'
        '[Dec 01 11:02:10.250000] PCI_BUS: Probe PCI driver: net_iavf (8086:154c) device: 0000:81:02.0 (socket 1)\n'
        'PCI_BUS: Requested device 0000:81:02.0 cannot be used\n')
    assert stats['eal']['probed'] == [
        {'pci': '0000:41:10.0', 'pmd': 'net_e1000_igb_vf', 'id': '8086:10ca', 'socket': 0},
        {'pci': '0000:81:02.0', 'pmd': 'net_iavf', 'id': '8086:154c', 'socket': 1}]
    assert stats['eal']['probe_failed'] == ['0000:81:02.0']
    assert stats['eal_errors'] == stats['errors'] == ['PCI_BUS: Requested device 0000:81:02.0 cannot be used']


def test_hugepage_warnings_are_facts_not_errors():
    stats = tp.parse_testpmd_log(
        'EAL: No available 1048576 kB hugepages reported\n'
        'EAL: No free 2048 kB hugepages reported on node 1\n'
        'EAL: Not enough memory available on socket 1! Requested: 256MB, available: 128MB\n'
        'EAL: Not enough memory available! Requested: 512MB, available: 0MB\n'
        'EAL: FATAL: Cannot get hugepage information.\n'
        'EAL: Cannot get hugepage information.\n')
    kinds = [(w['kind'], w['size_kb'], w['node']) for w in stats['eal']['hugepage_warnings']]
    assert kinds == [('no_available', 1048576, None), ('no_free', 2048, 1), ('not_enough_on_socket', None, 1),
                     ('not_enough', None, None), ('no_hugepage_info', None, None), ('no_hugepage_info', None, None)]
    assert stats['eal']['hugepage_warnings'][2]['requested_mb'] == 256
    # A node without free pages of one size is normal on a multi-node host: not an error line.
    assert not any('No free' in line or 'No available' in line for line in stats['errors'])


def test_launcher_start_facts_and_samples_of_the_pod_log():
    stats = FILTERS['testpmd_stats'](log(POD))
    assert stats['pod']['cgroup_cpus'] == '3' and stats['pod']['lcores'] == '(0,1)@3'
    assert stats['pod']['socket_mem'] == {'0': 0, '1': 256}
    assert stats['pod_samples'] == [{'event': 'sample', 'after_s': 5, 'hugepages': {
        'node0': {'2048kB': {'total': 256, 'free': 128}}, 'node1': {'2048kB': {'total': 256, 'free': 128}}}}]
    assert stats['eal']['probed'] == [{'pci': '0000:81:10.0', 'pmd': 'net_e1000_igb_vf', 'id': '8086:10ca', 'socket': 1}]
    assert stats['errors'] == [] and stats['clean_exit'] and stats['exit']['rc'] == 124
    assert stats['duration_source'] == 'log_timestamps' and 9.9 < stats['duration'] < 10


def test_old_pod_log_without_the_new_events_still_parses_and_judges():
    stats = FILTERS['testpmd_stats'](log('pod_podman_io_null'))
    assert stats['pod_samples'] == [] and 'cgroup_cpus' not in stats['pod']
    result = FILTERS['testpmd_verdict'](stats)
    assert result['passed'] is True and result['placement'] == {'checked': False}


# -- the strict placement verdict ----------------------------------------------

def test_the_aligned_pod_passes_with_every_placement_fact():
    result = judge(log(POD), peer_tx_packets=3410048)
    assert result['reasons'] == [] and result['passed'] is True
    placement = result['placement']
    assert placement['checked'] is True and placement['reasons'] == []
    assert placement['expected_numa_node'] == 1 and placement['expected_numa_node_source'] == 'argument'
    assert placement['cgroup_cpus'] == '3' and placement['cpus_source'] == 'cgroup_cpus'
    assert placement['cpus_node'] == 1 and placement['cpu_count'] == 1 and placement['cpus_outside_isolated'] == ''
    assert placement['nic_nodes'] == {'0000:81:10.0': 1}
    assert placement['hugepage_node'] == 1 and placement['hugepage_size_kb'] == 2048
    assert placement['hugepages_free_before'] == {'2048kB': 256} and placement['hugepages_free_during'] == [{'2048kB': 128}]
    assert placement['hugepages_taken_pages'] == 128 == placement['hugepages_expected_pages']
    assert placement['lcore_sockets'] == {'1': 1} and placement['port_sockets'] == {'0': 1}
    assert placement['mbuf_pool_sockets'] == [1]
    summary = '\n'.join(result['summary'])
    assert 'placement: node 1 (argument); CPUs 3 (cgroup_cpus) on node 1, 1 CPU(s) for a request of 1' in summary
    assert 'probed 0000:81:10.0 by net_e1000_igb_vf (socket 1)' in summary
    assert ('hugepages on node 1, socket_mem 0 MiB on node 0, 256 MiB on node 1, 128 of 128 expected pages of 2048 kB taken '
            '(1 sample(s)), hugepage warnings: none') in summary
    assert 'placement: ALIGNED' in summary and 'peer: sent 3410048 packets, received 3410016' in summary
    assert result['thresholds']['require_placement'] is True and result['thresholds']['rx_margin'] == 0.1


def test_expected_node_defaults_to_the_one_node_of_the_nics():
    result = judge(log(POD), expected_numa_node=None)
    assert result['passed'] is True
    assert result['placement']['expected_numa_node'] == 1 and result['placement']['expected_numa_node_source'] == 'nics'
    assert result['thresholds']['expected_numa_node'] == 1


def test_without_require_placement_nothing_of_it_is_judged():
    text = pod_log(start={'cgroup_cpus': '0-3', 'socket_mem': None}, drop_sample=True)
    result = FILTERS['testpmd_verdict'](FILTERS['testpmd_stats'](text))
    assert result['passed'] is True and result['placement'] == {'checked': False}
    assert not any(line.startswith('placement:') for line in result['summary'])


@pytest.mark.parametrize('start, options, expected', [
    ({'cgroup_cpus': '1,3', 'cpu_nodes': {'1': 0, '3': 1}}, {'cpu_request': 2},
     'placement: pod CPUs 1,3 (cgroup_cpus) are on NUMA nodes 0,1, not on one node'),
    ({'cgroup_cpus': '1', 'cpu_nodes': {'1': 0}}, {},
     'placement: pod CPUs 1 are on NUMA node 0, expected node 1'),
    ({'cgroup_cpus': '3', 'cpu_nodes': {}}, {},
     'placement: NUMA node of pod CPU(s) 3 unknown (launcher cpu_nodes {})'),
    ({'cgroup_cpus': '2-3', 'cpu_nodes': {'2': 1, '3': 1}}, {},
     'placement: the cgroup cpuset 2-3 holds 2 CPU(s), cpu_request is 1'),
    ({'cgroup_cpus': '2', 'cpu_nodes': {'2': 1}}, {},
     'placement: pod CPU(s) 2 are not in isolated_cpus 1,3'),
    ({'nics': [{'pci': '0000:81:10.0', 'numa_node': 0}]}, {},
     'placement: NIC 0000:81:10.0 is on NUMA node 0, expected node 1'),
    ({'nics': [{'pci': '0000:81:10.0', 'numa_node': -1}]}, {},
     'placement: NIC 0000:81:10.0 has no NUMA node (sysfs numa_node -1)'),
    ({'nics': [{'pci': '0000:81:10.0', 'numa_node': 1}, {'pci': '0000:41:10.0', 'numa_node': 0}]}, {'expected_numa_node': None},
     "placement: the pod's NICs are on NUMA nodes 0,1; one pod must have NICs of one node (or give expected_numa_node)"),
    ({'nics': []}, {},
     'placement: the launcher reported no PCI NIC in the pod (nics is empty): there is no VF to align with'),
    ({'nics': [{'pci': '0000:81:10.0', 'numa_node': 1}, {'pci': '0000:81:10.2', 'numa_node': 1}]}, {},
     'placement: NIC 0000:81:10.2 was not probed by EAL (no "Probe PCI driver: ... device: 0000:81:10.2" line)'),
    ({'socket_mem': None}, {},
     'placement: the launcher did not report socket_mem (the MiB of hugepages asked of EAL per node), '
     'so the hugepages the pod took cannot be checked'),
    ({'socket_mem': {'0': 64, '1': 256}}, {},
     "placement: EAL was asked for hugepage memory on NUMA node(s) 0,1 (socket_mem {'0': 64, '1': 256}), expected only node 1"),
    ({'hugepages': {'node0': {'2048kB': {'total': 256, 'free': 256}}}}, {},
     "placement: the launcher start event has no hugepages of node 1 (hugepages {'node0': {'2048kB': {'total': 256, 'free': 256}}})"),
    ({'cgroup_cpus': None, 'cpus': None}, {},
     'placement: the launcher reported no usable cpuset (cpus=None)'),
])
def test_each_broken_placement_fact_is_a_reason_naming_it(start, options, expected):
    reasons = placement_reasons(pod_log(start=start), **options)
    assert expected in reasons
    assert judge(pod_log(start=start), **options)['passed'] is False


def test_socket_mem_of_the_pod_node_alone_as_the_launcher_prints_it():
    result = judge(pod_log(start={'socket_mem': {'1': 256}}))
    assert result['passed'] is True and result['placement']['socket_mem'] == {'1': 256}
    assert result['placement']['hugepage_node'] == 1
    assert judge(pod_log(start={'socket_mem': {'node1': 256}}))['passed'] is True
    assert 'socket_mem not reported' in '\n'.join(judge(pod_log(start={'socket_mem': None}))['summary'])


def test_without_cgroup_cpus_the_affinity_is_used_and_said():
    result = judge(pod_log(start={'cgroup_cpus': None}))
    assert result['passed'] is True and result['placement']['cpus_source'] == 'cpus'


def test_the_pmd_and_the_probe_socket_are_checked():
    assert placement_reasons(log(POD), expected_pmd='net_iavf') == [
        'placement: NIC 0000:81:10.0 was probed by net_e1000_igb_vf, expected_pmd is net_iavf']
    text = pod_log(replace={'device: 0000:81:10.0 (socket 1)': 'device: 0000:81:10.0 (socket 0)'})
    assert placement_reasons(text) == ['placement: EAL probed NIC 0000:81:10.0 on socket 0, expected node 1']
    text = pod_log(replace={'EAL: Using IOMMU type 1 (Type 1)\n': 'EAL: Using IOMMU type 1 (Type 1)\n'
                            + '2026-12-01T11:02:10.256500Z EAL: Requested device 0000:81:10.0 cannot be used\n'})
    assert 'placement: EAL could not use NIC 0000:81:10.0 (Requested device 0000:81:10.0 cannot be used)' in placement_reasons(text)


def test_testpmd_lcores_ports_and_mbuf_pools_must_be_on_the_node():
    text = pod_log(replace={'Logical Core 1 (socket 1)': 'Logical Core 1 (socket 0)',
                            'Configuring Port 0 (socket 1)': 'Configuring Port 0 (socket 0)',
                            'n=16384, size=2176, socket=1': 'n=16384, size=2176, socket=0'})
    assert placement_reasons(text) == [
        'placement: testpmd forwarding lcore 1 is on socket 0, expected node 1',
        'placement: testpmd port 0 is on socket 0, expected node 1',
        'placement: mbuf pool mb_pool_1 is on socket 0, expected node 1']


def test_no_sample_is_a_reason_saying_the_launcher_did_not_report_it():
    assert placement_reasons(pod_log(drop_sample=True)) == [
        'placement: the launcher printed no sample event while testpmd ran, so the drop of free hugepages '
        'on node 1 cannot be checked']


@pytest.mark.parametrize('free', [192, 64, 256])
def test_free_hugepages_must_drop_by_exactly_socket_mem(free):
    sample = {'hugepages': {'node0': {'2048kB': {'total': 256, 'free': 128}}, 'node1': {'2048kB': {'total': 256, 'free': free}}}}
    result = judge(pod_log(sample=sample))
    assert result['passed'] is False
    assert result['placement']['hugepages_taken_pages'] == 256 - free
    assert placement_reasons(pod_log(sample=sample)) == [
        "placement: free hugepages on node 1 never dropped by socket_mem 256 MiB (128 pages of 2048 kB) in the 1 sample(s) "
        "during the run: free before {'2048kB': 256}, during [{'2048kB': %d}]" % free]


def test_one_exact_sample_among_several_is_enough_and_the_other_node_does_not_matter():
    text = pod_log().replace(
        'Telling cores to stop...',
        'nfv.dpdk.testpmd: {"event": "sample", "after_s": 9, "hugepages": {"node0": {"2048kB": {"total": 256, "free": 0}}, '
        '"node1": {"2048kB": {"total": 256, "free": 200}}}}\n2026-12-01T11:02:20.250000Z Telling cores to stop...')
    result = judge(text)
    assert result['passed'] is True
    assert result['placement']['samples'] == 2 and result['placement']['hugepages_free_during'] == [{'2048kB': 128}, {'2048kB': 200}]


def test_the_pool_size_is_the_one_whose_free_count_fell_by_socket_mem():
    pools = {'node1': {'1048576kB': {'total': 2, 'free': 2}, '2048kB': {'total': 256, 'free': 256}}}
    sample = {'hugepages': {'node1': {'1048576kB': {'total': 2, 'free': 2}, '2048kB': {'total': 256, 'free': 128}}}}
    result = judge(pod_log(start={'hugepages': pools}, sample=sample))
    assert result['passed'] is True and result['placement']['hugepage_size_kb'] == 2048
    sample = {'hugepages': {'node1': {'1048576kB': {'total': 2, 'free': 2}, '2048kB': {'total': 256, 'free': 256}}}}
    result = judge(pod_log(start={'hugepages': pools, 'socket_mem': {'0': 0, '1': 1024}}, sample=sample))
    assert result['passed'] is False and result['placement']['hugepages_taken_pages'] == 0


def test_hugepage_warnings_of_the_pod_node_or_pool_fail_others_are_listed():
    warnings = ('2026-12-01T11:02:10.252500Z EAL: No available 1048576 kB hugepages reported\n'
                '2026-12-01T11:02:10.252600Z EAL: No free 2048 kB hugepages reported on node 0\n'
                '2026-12-01T11:02:10.252700Z EAL: No free 2048 kB hugepages reported on node 1\n'
                '2026-12-01T11:02:10.252800Z EAL: Not enough memory available on socket 1! Requested: 256MB, available: 128MB\n')
    text = pod_log(replace={"2026-12-01T11:02:10.253000Z EAL: Multi-process": warnings + "2026-12-01T11:02:10.253000Z EAL: Multi-process"})
    result = judge(text)
    assert result['placement']['hugepage_warnings_ignored'] == [
        'EAL: No available 1048576 kB hugepages reported', 'EAL: No free 2048 kB hugepages reported on node 0']
    assert placement_reasons(text) == [
        'placement: EAL hugepage warning: EAL: No free 2048 kB hugepages reported on node 1',
        'placement: EAL hugepage warning: EAL: Not enough memory available on socket 1! Requested: 256MB, available: 128MB']
    assert 'hugepage warnings: EAL: No free 2048 kB hugepages reported on node 1; ' in '\n'.join(result['summary'])


def test_a_vdev_run_without_launcher_facts_cannot_prove_placement():
    result = judge(log('io_null'), expected_numa_node=0)
    assert result['passed'] is False
    assert placement_reasons(log('io_null'), expected_numa_node=0) == [
        'placement: the log holds no launcher start event (nfv.dpdk.testpmd: {"event": "start", ...}), '
        'so where the pod ran is unknown']


# -- traffic: peer, margin, one-way modes ------------------------------------------

def test_received_packets_within_the_margin_of_what_the_peer_sent():
    stats = FILTERS['testpmd_stats'](log(POD))
    assert FILTERS['testpmd_verdict'](stats, peer_tx_packets=3700000)['passed'] is True      # 3410016 >= 0.9 x 3700000
    result = FILTERS['testpmd_verdict'](stats, peer_tx_packets=3800000)
    assert result['reasons'] == ['received 3410016 packets in total, under (1 - rx_margin 0.1) x 3800000 packets the peer sent = 3420000']
    assert FILTERS['testpmd_verdict'](stats, peer_tx_packets=3800000, rx_margin=0.2)['passed'] is True
    assert FILTERS['testpmd_verdict'](stats, peer_tx_packets=3410017, rx_margin=0)['passed'] is False
    assert FILTERS['testpmd_verdict'](stats, peer_tx_packets=0)['passed'] is True


def test_txonly_rx_missed_of_an_unread_peer_does_not_fail_but_counts_where_rx_is_required():
    # A peer sends to the txonly port, which never polls RX: the NIC counts all of it as missed.
    text = log('txonly_null_version').replace('RX-missed: 0 ', 'RX-missed: 999999 ')
    stats = FILTERS['testpmd_stats'](text)
    assert stats['ports'][0]['rx_missed'] == 999999
    result = FILTERS['testpmd_verdict'](stats)
    assert result['passed'] is True
    assert result['figures']['rx_drop_ratio'] == 1.0 and result['figures']['drop_ratio'] == 0.0
    forced = FILTERS['testpmd_verdict'](stats, require_rx=True)
    assert any(reason.startswith('drop ratio 1.000000 is above max_drop_ratio 0.0 (RX lost 999999') for reason in forced['reasons'])
    # In a mode that must receive the same missed packets fail the run.
    io = FILTERS['testpmd_stats'](log('io_null').replace('RX-missed: 0 ', 'RX-missed: 5 '))
    assert FILTERS['testpmd_verdict'](io)['figures']['drop_ratio'] > 0 and not FILTERS['testpmd_verdict'](io)['passed']


# -- inputs ---------------------------------------------------------------------

@pytest.mark.parametrize('options, message', [
    ({'require_placement': 'yes'}, "require_placement must be a boolean, got 'yes'"),
    ({'expected_numa_node': 'one'}, "expected_numa_node must be an integer, got 'one'"),
    ({'expected_numa_node': -1}, 'expected_numa_node must be between 0 and 1023, got -1'),
    ({'isolated_cpus': '3-1'}, 'isolated_cpus must be a cpu-list such as 1,3 or 2-5'),
    ({'isolated_cpus': []}, 'isolated_cpus must name at least one CPU (a cpu-list such as 1,3), got []'),
    ({'cpu_request': 0}, 'cpu_request must be between 1 and 1024, got 0'),
    ({'expected_pmd': 'net iavf'}, "expected_pmd must be a DPDK PCI driver name as EAL prints it"),
    ({'peer_tx_packets': -5}, 'peer_tx_packets must be between 0 and any, got -5'),
    ({'rx_margin': 1}, 'rx_margin is a fraction between 0 and 1'),
    ({'rx_margin': -0.1}, 'rx_margin must be at least 0.0, got -0.1'),
])
def test_bad_verdict_options_name_the_field(options, message):
    with pytest.raises(AnsibleFilterError, match='testpmd_verdict: .*' + re.escape(message)):
        FILTERS['testpmd_verdict'](FILTERS['testpmd_stats'](log(POD)), **options)


def test_empty_strings_of_an_older_ansible_mean_not_given():
    stats = FILTERS['testpmd_stats'](log(POD))
    result = FILTERS['testpmd_verdict'](stats, require_placement=True, expected_numa_node='', isolated_cpus='', cpu_request='',
                                        expected_pmd='', peer_tx_packets='', rx_margin='')
    assert result['passed'] is True
    assert result['thresholds']['expected_numa_node'] == 1 and result['thresholds']['isolated_cpus'] is None
    assert result['thresholds']['rx_margin'] == 0.1
    # Numbers as strings, as templates give them.
    assert FILTERS['testpmd_verdict'](stats, require_placement=True, expected_numa_node='1', cpu_request='1')['passed'] is True
