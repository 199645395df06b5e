# -*- coding: utf-8 -*-
"""nfv.dpdk.kubelet_cpu_manager takes its kubelet settings from the node plan (issue 16).

The plan is a real one: nfv.dpdk.node_plan run in-process on the fake lab node of
test_site_node_plan (2 NUMA nodes, an igb PF on each). Its kubelet_settings, in KubeletConfiguration
key names, must be what nfv.dpdk.kubelet_config's options take; the role is then run in check mode
on a kubelet configuration file under a temp dir with dpdk_node_result_plan as the host's variable:
the settings left null come from the plan, explicit ones win, and without a plan nothing of it is
passed on.
"""

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nfv.dpdk.plugins.modules import kubelet_config, node_plan
from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost
from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import run_local_play
from ansible_collections.nfv.dpdk.tests.unit.roles.test_site_node_plan import LAB_NODE

# The kubelet_settings keys the role maps, and the kubelet_config option each one goes to.
PLAN_TO_OPTION = {
    'topologyManagerPolicy': 'topology_manager_policy',
    'memoryManagerPolicy': 'memory_manager_policy',
    'kubeReserved': 'kube_reserved',
    'systemReserved': 'system_reserved',
    'evictionHard': 'eviction_hard',
    'reservedMemory': 'reserved_memory',
    'reservedSystemCPUs': 'reserved_system_cpus',
}
KUBELET_CONFIG = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncpuManagerPolicy: none\n'


@pytest.fixture
def lab_plan(tmp_path, monkeypatch, run_module):
    node = FakeHost.from_spec(str(tmp_path / 'node'), LAB_NODE)
    monkeypatch.setenv('NFV_DPDK_TEST_ROOT', node.root)
    result = run_module(node_plan, {'nics': ['0000:41:00.0', '0000:81:00.0'], 'hugepage_size': '2M',
                                    'hugepages_per_nic_node': '512M', 'vfs_per_pf': 2})
    assert not result.failed, result.get('msg')
    return node, dict(result)


def test_plan_settings_are_kubelet_config_options(lab_plan):
    settings = lab_plan[1]['kubelet_settings']
    assert settings['cpuManagerPolicy'] == 'static'
    unmapped = set(settings) - set(PLAN_TO_OPTION) - {'cpuManagerPolicy'}
    assert not unmapped, 'kubelet_settings keys the role does not pass on: %s' % sorted(unmapped)
    options = dict((PLAN_TO_OPTION[key], value) for key, value in settings.items() if key in PLAN_TO_OPTION)
    options['cpu_manager_policy'] = settings['cpuManagerPolicy']
    validated = ArgumentSpecValidator(kubelet_config.ARGUMENT_SPEC).validate(options)
    assert validated.error_messages == []
    assert settings['memoryManagerPolicy'] == 'Static'
    assert [entry['numaNode'] for entry in settings['reservedMemory']] == [0, 1]


def run_role(tmp_path, node, cases):
    # kubelet_config reads its paths below NFV_DPDK_TEST_ROOT, the fake node's tree.
    hosts = {}
    for name, variables in cases.items():
        node.file('/var/lib/kubelet-%s/config.yaml' % name, KUBELET_CONFIG)
        hosts[name] = dict(variables, kubelet_cpu_manager_config_path='/var/lib/kubelet-%s/config.yaml' % name,
                           kubelet_cpu_manager_state_dir='/var/lib/kubelet-%s' % name,
                           kubelet_cpu_manager_kubelet_version='1.34.1')
    play = {'hosts': 'all', 'gather_facts': False,
            'tasks': [{'ansible.builtin.include_role': {'name': 'nfv.dpdk.kubelet_cpu_manager'}}]}
    report, rc = run_local_play(tmp_path, play, hosts, ['--check'])
    results = {}
    for play_report in report['plays']:
        for task in play_report['tasks']:
            if task['task']['name'].endswith('Compute the kubelet configuration change (check mode)'):
                results.update(task['hosts'])
    return results, rc


def test_the_role_takes_the_plan_and_explicit_values_win(tmp_path, lab_plan):
    node, lab_plan = lab_plan
    plan_vars = {'dpdk_node_result_plan': lab_plan, 'dpdk_node_result_reserved_cpus': lab_plan['reserved_cpus'],
                 'dpdk_node_result_isolated_cpus': lab_plan['isolated_cpus']}
    settings = lab_plan['kubelet_settings']
    results, rc = run_role(tmp_path, node, {
        'planned': plan_vars,
        'explicit': dict(plan_vars, kubelet_cpu_manager_topology_policy='restricted',
                         kubelet_cpu_manager_kube_reserved={'memory': '500Mi', 'cpu': '500m'}),
        # The static policy needs reserved CPUs: given by hand here, without a plan.
        'unplanned': {'kubelet_cpu_manager_reserved_cpus': '0'},
    })
    assert sorted(results) == ['explicit', 'planned', 'unplanned'], results
    for name, result in results.items():
        assert not result.get('failed'), (name, result.get('msg'))
    assert rc == 0, rc

    planned = results['planned']['invocation']['module_args']
    for key, option in PLAN_TO_OPTION.items():
        wanted, passed = settings[key], planned[option]
        if option == 'reserved_memory':
            # The invocation shows the option under its name and its alias numaNode.
            passed = [{'numaNode': entry['numa_node'], 'limits': entry['limits']} for entry in passed]
        assert passed == wanted, (option, passed, wanted)
    assert results['planned']['changed'] is True
    assert results['planned']['memory_manager_policy'] == {'before': 'None', 'after': 'Static'}
    # The configuration the kubelet would get holds the plan's keys as the plan wrote them.
    config = results['planned']['config']
    for key in ('topologyManagerPolicy', 'memoryManagerPolicy', 'reservedMemory', 'kubeReserved', 'systemReserved',
                'reservedSystemCPUs'):
        assert config[key] == settings[key], (key, config[key], settings[key])
    assert config['evictionHard']['memory.available'] == settings['evictionHard']['memory.available']

    explicit = results['explicit']['invocation']['module_args']
    assert explicit['topology_manager_policy'] == 'restricted'
    assert explicit['kube_reserved'] == {'memory': '500Mi', 'cpu': '500m'}
    assert explicit['system_reserved'] == settings['systemReserved']

    unplanned = results['unplanned']['invocation']['module_args']
    for option in ('topology_manager_policy', 'memory_manager_policy', 'kube_reserved', 'system_reserved',
                   'eviction_hard', 'reserved_memory'):
        assert not unplanned.get(option), (option, unplanned.get(option))
    assert results['unplanned']['memory_manager_policy'] == {'before': 'None', 'after': 'None'}
    # Check mode: the three configuration files are as they were written.
    for name in results:
        with open(node.path('/var/lib/kubelet-%s/config.yaml' % name)) as handle:
            assert handle.read() == KUBELET_CONFIG
