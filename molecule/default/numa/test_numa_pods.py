"""The NUMA-aligned proof on the lab node, after undo_cycle.yml converged it again in counts mode.

molecule/default/numa_proof.yml ran one testpmd pod per NUMA node from the node plan's proof_pods
and recorded their verdicts in /var/lib/nfv-dpdk/testpmd/testpmd-numa.json; it then runs these
testinfra tests against the Molecule inventory. Each test reads the pods' own results and checks
them against the node's sysfs as well: every CPU of a pod on one node equal to its VF's node and
its hugepage node, the cgroup cpuset equal in count to the CPU request and inside the isolated set,
the VF on vfio-pci and probed by the igb VF PMD, the pod's hugepages taken from its node only, RX
on every port and within the margin of what the other pod sent.
"""

import json
import os


def cpu_list(text):
    """'1,3-4' -> [1, 3, 4]"""
    cpus = []
    for part in str(text).split(','):
        bounds = part.split('-')
        cpus.extend(range(int(bounds[0]), int(bounds[-1]) + 1))
    return cpus


def numa_record(host):
    result = host.file('/var/lib/nfv-dpdk/testpmd/testpmd-numa.json')
    assert result.exists, 'side_effect runs the NUMA pods with dpdk_testpmd_result_file pointing here'
    return json.loads(result.content_string)


def node_of_cpu(host, cpu):
    nodes = [name for name in host.file('/sys/devices/system/cpu/cpu%d' % cpu).listdir() if name.startswith('node')]
    assert len(nodes) == 1, (cpu, nodes)
    return int(nodes[0][len('node'):])


def test_numa_pods_ran_one_per_numa_node_and_passed(host):
    record = numa_record(host)
    pods = record['numa_pods']
    assert sorted(pod['numa_node'] for pod in pods) == [0, 1], pods
    assert record['passed'] is True, record['reasons']
    for pod in pods:
        assert pod['passed'] is True and pod['thresholds']['require_placement'] is True, pod


def test_numa_pods_cpus_are_on_the_node_of_their_vf_and_of_their_hugepages(host):
    for pod in numa_record(host)['numa_pods']:
        placement = pod['placement']
        cpus = cpu_list(placement['cgroup_cpus'])
        assert placement['cpus_source'] == 'cgroup_cpus', placement
        # the node's own topology, not only what the pod reported
        assert set(node_of_cpu(host, cpu) for cpu in cpus) == {pod['numa_node']}, (pod['pod'], cpus)
        assert set(placement['cpu_nodes'].values()) == {pod['numa_node']}, placement
        for pci in pod['pci_devices']:
            assert int(host.file('/sys/bus/pci/devices/%s/numa_node' % pci).content_string) == pod['numa_node'], pci
            assert placement['nic_nodes'][pci] == pod['numa_node'], placement
        assert placement['hugepage_node'] == pod['numa_node'], placement
        assert list(placement['socket_mem']) == [str(pod['numa_node'])] and placement['socket_mem'][str(pod['numa_node'])] > 0, placement


def test_numa_pods_cgroup_holds_exactly_the_cpu_request_inside_the_isolated_set(host):
    isolated = set(cpu_list(host.file('/sys/devices/system/cpu/isolated').content_string.strip()))
    for pod in numa_record(host)['numa_pods']:
        placement = pod['placement']
        cpus = cpu_list(placement['cgroup_cpus'])
        assert len(cpus) == placement['cpu_request'] == len(cpu_list(pod['cpus'])), placement
        assert set(cpus) <= isolated, (pod['pod'], cpus, isolated)
        assert placement['cpus_outside_isolated'] == '', placement


def test_numa_pods_vf_was_probed_by_the_igb_vf_pmd(host):
    for pod in numa_record(host)['numa_pods']:
        probed = dict((probe['pci'], probe['pmd']) for probe in pod['placement']['probed'])
        for pci in pod['pci_devices']:
            assert os.path.basename(host.file('/sys/bus/pci/devices/%s/driver' % pci).linked_to) == 'vfio-pci', pci
            assert probed.get(pci) == 'net_e1000_igb_vf', (pci, pod['placement']['probed'])
        assert not pod['placement']['hugepage_warnings'], pod['placement']['hugepage_warnings']


def test_numa_pods_took_exactly_their_hugepages_from_their_node(host):
    for pod in numa_record(host)['numa_pods']:
        placement = pod['placement']
        size_kb = placement['hugepage_size_kb']
        assert size_kb == 2048, placement
        expected = placement['socket_mem'][str(pod['numa_node'])] * 1024 // size_kb
        assert placement['hugepages_expected_pages'] == expected > 0, placement
        assert placement['hugepages_taken_pages'] == expected, placement
        before = placement['hugepages_free_before']['%dkB' % size_kb]
        assert any(before - sample['%dkB' % size_kb] == expected for sample in placement['hugepages_free_during']), placement


def test_numa_pods_received_on_every_port_what_the_other_pod_sent(host):
    pods = numa_record(host)['numa_pods']
    by_node = dict((pod['numa_node'], pod) for pod in pods)
    for pod in pods:
        figures = pod['figures']
        assert figures['ports'] and all(port['rx_packets'] > 0 for port in figures['ports']), figures['ports']
        sender = by_node[1 - pod['numa_node']]
        assert figures['peer_tx_packets'] == sender['figures']['tx_packets'], (figures, sender['figures'])
        margin = pod['thresholds']['rx_margin']
        assert figures['rx_packets'] >= (1 - margin) * figures['peer_tx_packets'] > 0, figures
