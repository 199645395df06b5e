# -*- coding: utf-8 -*-
"""playbooks/site.yml in counts mode (lab/site-vars-plan.yml), under --check, on a fake lab node.

The dpdk_node role plans the node with nfv.dpdk.node_plan (issue 16) and takes every set the
variables leave empty from that plan. The fake tree (NFV_DPDK_TEST_ROOT) is the lab node: 4 CPUs,
0-1 on NUMA node 0 and 2-3 on node 1 without SMT, an 82576 (igb) PF on each node. The play runs
on localhost in check mode (without the sriov, bind and reboot phases): the published facts and
the planned kernel arguments and pools are read from the json report, and the fake node must be unchanged afterwards.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
HOST = 'lab-node'
# sriov_vfs and driver_bind ask this machine's ip(8) about the PFs' interfaces even in check mode, and
# the reboot phase would wait for a reboot: not on a fake tree. The plan and the facts are tagged always.
SKIPPED = 'reboot,sriov,bind'
GRUB_DEFAULT = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n'

LAB_NODE = {
    'topology': {'sockets': 2, 'cores_per_socket': 2, 'threads_per_core': 1, 'mem_per_node_kb': 3 * 1024 * 1024},
    'hugepages': [
        {'size_kb': 2048, 'total': 0},
        {'size_kb': 2048, 'total': 0, 'node': 0},
        {'size_kb': 2048, 'total': 0, 'node': 1},
    ],
    'pci': [
        {'address': '0000:00:00.0', 'vendor': '0x8086', 'device': '0x29c0', 'pci_class': '0x060000', 'numa_node': 0},
        {'address': '0000:00:02.0', 'vendor': '0x1af4', 'device': '0x1041', 'driver': 'virtio-pci', 'numa_node': 0,
         'netdevs': ['enp0s2']},
        {'address': '0000:41:00.0', 'vendor': '0x8086', 'device': '0x10c9', 'driver': 'igb', 'numa_node': 0,
         'iommu_group': 10, 'sriov_totalvfs': 7, 'netdevs': ['enp65s0']},
        {'address': '0000:81:00.0', 'vendor': '0x8086', 'device': '0x10c9', 'driver': 'igb', 'numa_node': 1,
         'iommu_group': 20, 'sriov_totalvfs': 7, 'netdevs': ['enp129s0']},
    ],
    'cmdline': 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/vda1 ro console=ttyS0',
    'modules': ['igb', 'vfio', 'vfio_pci', 'vfio_iommu_type1'],
    'routes': ['enp0s2'],
    'files': {
        '/etc/default/grub': GRUB_DEFAULT,
        '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
        '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
        '/proc/sys/kernel/osrelease': '6.1.0-18-amd64',
        '/proc/sys/kernel/modules_disabled': '0',
    },
}


@pytest.fixture
def lab_node(tmp_path):
    return FakeHost.from_spec(str(tmp_path / 'node'), LAB_NODE)


def run_site(tmp_path, node, extra_argv):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'all': {'children': {'dpdk_nodes': {'hosts': {HOST: {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable, 'ansible_become': False}}}}}}))
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_NOCOLOR='1',
               NFV_DPDK_TEST_ROOT=node.root)
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), os.path.join(ROOT, 'playbooks', 'site.yml'),
            '-e', '@' + os.path.join(ROOT, 'lab', 'site-vars-plan.yml'),
            '-e', 'dpdk_site_kubelet=false', '-e', 'dpdk_site_testpmd=false',
            '-e', 'report_dir=' + str(tmp_path / 'reports')] + list(extra_argv)
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('no json report (rc %d): %s %s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return report, proc.returncode


def task_results(report, name):
    return [task['hosts'][HOST] for play in report['plays'] for task in play['tasks']
            if task['task']['name'].split(' : ')[-1] == name and HOST in task['hosts']]


def test_counts_mode_plan_in_check_mode(tmp_path, lab_node):
    before = lab_node.snapshot()
    report, rc = run_site(tmp_path, lab_node, ['--check', '--diff', '--skip-tags', SKIPPED])
    failed = [(task['task']['name'], result.get('msg')) for play in report['plays'] for task in play['tasks']
              for result in task['hosts'].values() if result.get('failed')]
    assert rc == 0 and not failed, failed

    plan = task_results(report, 'Plan the node from its topology and its DPDK NICs')
    assert len(plan) == 1 and plan[0]['changed'] is False
    plan = plan[0]
    # The lab's expected sets (lab/site-vars.yml gives them by hand).
    assert (plan['reserved_cpus'], plan['isolated_cpus']) == ('0,2', '1,3')
    assert sorted((pool['node'], pool['size'], pool['count']) for pool in plan['hugepage_pools']) == [(0, '2M', 256), (1, '2M', 256)]
    assert [(pf['device'], pf['num_vfs']) for pf in plan['sriov_pfs']] == [('0000:41:00.0', 2), ('0000:81:00.0', 2)]
    assert all(vf['mac'].startswith('02:') for pf in plan['sriov_pfs'] for vf in pf['vfs'])
    assert [binding['driver'] for binding in plan['bindings']] == ['vfio-pci']
    assert sorted(pod['numa_node'] for pod in plan['proof_pods']) == [0, 1]

    # The published facts: the whole plan, and the CPU sets of this run, are the plan's.
    facts = task_results(report, 'Record what the node offers to the workloads')[0]['ansible_facts']
    assert (facts['dpdk_node_result_reserved_cpus'], facts['dpdk_node_result_isolated_cpus']) == ('0,2', '1,3')
    taken = task_results(report, 'Take the sets left empty from the node plan')[0]['ansible_facts']
    assert taken['dpdk_node_result_plan']['proof_pods'] == plan['proof_pods']
    assert taken['dpdk_node_hugepages_pools'] == plan['hugepage_pools']
    assert taken['dpdk_node_sriov_pfs'] == plan['sriov_pfs']
    assert taken['dpdk_node_bindings'] == plan['bindings']

    # The planned changes follow the plan: isolcpus of 1,3 and 256 2M pages on each node.
    cpu = task_results(report, 'Isolate CPUs for the DPDK workloads')[0]
    assert cpu['changed'] is True and (cpu['isolated_cpus'], cpu['reserved_cpus']) == ('1,3', '0,2')
    hugepages = task_results(report, 'Reserve hugepages per size and NUMA node')[0]
    assert sorted((pool['node'], pool['after']['persistent']) for pool in hugepages['pools']) == [(0, 256), (1, 256)]
    lines = task_results(report, 'Show the plan (check mode)')[0]['msg']
    assert lines[:len(plan['summary'])] == plan['summary']
    assert any('isolcpus=managed_irq,domain,1,3' in line for line in lines), lines
    assert lab_node.snapshot() == before, 'check mode changed the fake node'


def test_explicit_empty_extra_variable_is_refused(tmp_path, lab_node):
    """An empty list given as an extra variable would win over the plan's facts: refused, naming it."""
    report, rc = run_site(tmp_path, lab_node, ['--check', '--skip-tags', SKIPPED, '-e', '{"dpdk_node_sriov_pfs": []}'])
    refusals = task_results(report, 'Check that no extra variable hides the node plan')
    assert rc != 0 and refusals and refusals[0]['failed'], refusals
    assert refusals[0]['msg'].startswith('dpdk_node_sriov_pfs is set empty'), refusals[0]['msg']
    assert not task_results(report, 'Isolate CPUs for the DPDK workloads')


def test_reserved_per_node_is_refused_with_a_plan(tmp_path, lab_node):
    report, rc = run_site(tmp_path, lab_node, ['--check', '--skip-tags', SKIPPED, '-e', 'dpdk_node_reserved_per_node=1'])
    refusals = task_results(report, 'Refuse node plan inputs that contradict each other')
    assert rc != 0 and refusals and refusals[0]['failed'], refusals
    assert 'dpdk_node_plan.reserved_cores_per_node' in refusals[0]['msg']
