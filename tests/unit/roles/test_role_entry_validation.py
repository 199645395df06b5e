# -*- coding: utf-8 -*-
"""Bad role input is refused at the role's entry, before any task that looks at or changes the node.

Each case runs ansible-playbook against localhost (``-c local``) with the json stdout callback and
reads which tasks ran: the role's argument validation (or, for checks a spec cannot express, the
role's own first check) must be the failed task and the last one that ran. Nothing here gets past
that point, so the roles never touch this machine.
"""

import os

import pytest
import yaml
from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import ROOT, run_local_play

VALIDATION = "Validating arguments against arg spec 'main'"


def run_play(tmp_path, hosts, check_mode=False, role=None, tasks=None):
    """Run one play on local hosts named after the cases, each with its own variables.

    ``hosts`` maps a case name to its variables. Returns ({case: [(task name, result)]}, rc): the
    tasks that ran for each case, in order. One ansible-playbook process serves every case.
    """
    play = {'name': 'entry validation', 'hosts': 'all', 'gather_facts': False}
    if tasks is not None:
        play['tasks'] = tasks
    else:
        play['roles'] = [{'role': 'nfv.dpdk.' + role}]
    report, rc = run_local_play(tmp_path, play, hosts, ['--check'] if check_mode else [])
    ran = dict((name, []) for name in hosts)
    for task in report['plays'][0]['tasks']:
        for name, result in task['hosts'].items():
            ran[name].append((task['task']['name'], result))
    return ran, rc


def assert_refused_at_validation(ran, *fragments):
    names = [name for name, result in ran]
    assert len(ran) == 1, 'tasks ran after the validation: %s' % names
    name, result = ran[0]
    assert VALIDATION in name
    assert result.get('failed') is True
    for fragment in fragments:
        assert fragment in result['msg']


DPDK_NODE_TYPOS = {
    'pfs': ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vf': 2}]},
            ['dpdk_node_sriov_pfs.num_vf', 'missing required arguments: num_vfs found in dpdk_node_sriov_pfs']),
    'vfs': ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vfs': 2, 'vfs': [{'index': 0, 'vlann': 5}]}]},
            ['dpdk_node_sriov_pfs.vfs.vlann']),
    'bindings': ({'dpdk_node_bindings': [{'vfs_off': ['0000:41:00.0'], 'driver': 'vfio-pci'}]},
                 ['dpdk_node_bindings.vfs_off', 'one of the following is required: devices, vfs_of, match found in dpdk_node_bindings']),
    'pools': ({'dpdk_node_hugepages_pools': [{'size': '2M', 'cont': 512}]},
              ['dpdk_node_hugepages_pools.cont', 'missing required arguments: count found in dpdk_node_hugepages_pools']),
    'mounts': ({'dpdk_node_hugepages_mounts': [{'pth': '/dev/hugepages1G'}]}, ['dpdk_node_hugepages_mounts.pth']),
}


@pytest.fixture(scope='module')
def dpdk_node_runs(tmp_path_factory):
    return run_play(tmp_path_factory.mktemp('dpdk_node'), dict((case, variables) for case, (variables, fragments) in DPDK_NODE_TYPOS.items()),
                    role='dpdk_node')


@pytest.mark.parametrize('case', sorted(DPDK_NODE_TYPOS))
def test_dpdk_node_refuses_a_misspelt_key_before_any_task(dpdk_node_runs, case):
    ran, rc = dpdk_node_runs
    assert rc != 0
    assert_refused_at_validation(ran[case], *DPDK_NODE_TYPOS[case][1])


@pytest.fixture(scope='module')
def kubelet_runs(tmp_path_factory):
    return run_play(tmp_path_factory.mktemp('kubelet'), {
        'reserved_memory': {'kubelet_cpu_manager_memory_policy': 'Static',
                            'kubelet_cpu_manager_reserved_memory': [{'numa_node': 0, 'limit': {'memory': '1Gi'}}]},
        'bad_type': {'kubelet_cpu_manager_wait_ready': 'sometimes'},
        'renamed': {'kubelet_cpu_manager_node_name': 'worker-1', 'kubelet_cpu_manager_start_retries': 12},
    }, role='kubelet_cpu_manager')


def test_kubelet_role_plans_with_the_cpus_dpdk_node_published(tmp_path):
    """Valid input gets past the entry checks (check mode, a scratch configuration file), and the
    reserved CPUs default to what dpdk_node published."""
    state_dir = tmp_path / 'kubelet'
    state_dir.mkdir()
    runs, rc = run_play(tmp_path, {'valid': {
        'kubelet_cpu_manager_config_path': str(tmp_path / 'kubelet-config.yaml'),
        'kubelet_cpu_manager_create': True,
        'kubelet_cpu_manager_state_dir': str(state_dir),
        'dpdk_node_result_reserved_cpus': '0',
        'dpdk_node_result_isolated_cpus': '',
        # No kubelet on this machine to ask (kubelet_cpu_manager_cfs_quota=auto needs the version).
        'kubelet_cpu_manager_kubelet_version': '1.34.1',
    }}, check_mode=True, role='kubelet_cpu_manager')
    ran = runs['valid']
    assert rc == 0, ran
    assert [name.split(' : ', 1)[1] for name, result in ran][1:] == [
        'Refuse the renamed role variables', 'Ask the node for the kubelet\'s version', 'Decide how the CFS quota is turned off',
        'Refuse to guess the kubelet\'s version', 'Say how the CFS quota is handled', 'Compute the settings the role passes on',
        'Put together the arguments of nfv.dpdk.kubelet_config', 'Compute the kubelet configuration change (check mode)',
        'Show the planned change',
        'Switch the kubelet to the new configuration']
    plan = dict((name.split(' : ', 1)[1], result) for name, result in ran)['Compute the kubelet configuration change (check mode)']
    assert plan['effective_config']['reservedSystemCPUs'] == '0'
    assert plan['effective_config']['featureGates'] == {'DisableCPUQuotaWithExclusiveCPUs': True}
    assert ran[-1][1].get('skipped') is True
    assert not (tmp_path / 'kubelet-config.yaml').exists()


def test_kubelet_role_refuses_a_misspelt_reserved_memory_key(kubelet_runs):
    ran = kubelet_runs[0]
    assert_refused_at_validation(ran['reserved_memory'], 'kubelet_cpu_manager_reserved_memory.limit',
                                 'missing required arguments: limits found in kubelet_cpu_manager_reserved_memory')


def test_kubelet_role_refuses_a_bad_type(kubelet_runs):
    ran = kubelet_runs[0]
    assert_refused_at_validation(ran['bad_type'], 'kubelet_cpu_manager_wait_ready')


def test_kubelet_role_names_the_replacement_of_a_renamed_variable(kubelet_runs):
    ran = kubelet_runs[0]['renamed']
    assert [name for name, result in ran][1:] == ['nfv.dpdk.kubelet_cpu_manager : Refuse the renamed role variables']
    assert VALIDATION in ran[0][0] and not ran[0][1].get('failed')
    message = ran[1][1]['msg']
    assert ran[1][1].get('failed') is True
    assert 'kubelet_cpu_manager_node_name is no longer read: set kubelet_cpu_manager_k8s_node_name' in message
    assert 'kubelet_cpu_manager_start_retries is no longer read: set kubelet_cpu_manager_start_timeout' in message


TESTPMD_CASES = {
    'kubernetes': {'dpdk_testpmd_backend': 'kubernetes'},
    'podman': {'dpdk_testpmd_backend': 'podman'},
    'podman_vf_count': {'dpdk_testpmd_backend': 'podman', 'dpdk_testpmd_sriov_count': 2, 'dpdk_testpmd_podman_pci_devices': ['0000:41:02.0']},
    'bad_choice': {'dpdk_testpmd_backend': 'docker', 'dpdk_testpmd_vdevs': ['net_null0']},
}


@pytest.fixture(scope='module', params=[False, True], ids=['run', 'check'])
def testpmd_runs(request, tmp_path_factory):
    cases = dict(TESTPMD_CASES)
    if request.param:
        # Valid input runs only in check mode here: it shows the manifest and runs nothing else.
        cases['valid'] = {'dpdk_testpmd_vdevs': ['net_null0', 'net_null1']}
    return run_play(tmp_path_factory.mktemp('testpmd'), cases, check_mode=request.param, role='dpdk_testpmd'), request.param


def test_testpmd_valid_input_gets_past_the_entry_checks(testpmd_runs):
    runs, check_mode = testpmd_runs[0][0], testpmd_runs[1]
    if not check_mode:
        pytest.skip('valid input is only run in check mode')
    ran = runs['valid']
    assert [name.split(' : ', 1)[1] for name, result in ran][1:4] == [
        'Check that testpmd gets ports', 'Check that the podman pod gets as many VFs as it requests', 'Build the testpmd Pod manifest']
    assert not any(result.get('failed') for name, result in ran)
    assert ran[2][1].get('skipped') is True  # the podman check, kubernetes backend


@pytest.mark.parametrize('backend, expected', [
    ('kubernetes', ['set dpdk_testpmd_sriov_count', 'dpdk_testpmd_sriov_resource', 'dpdk_testpmd_vdevs']),
    ('podman', ['set dpdk_testpmd_sriov_count', 'dpdk_testpmd_podman_pci_devices', 'dpdk_testpmd_vdevs']),
])
def test_testpmd_without_ports_names_the_role_variables_at_entry(testpmd_runs, backend, expected):
    ran = testpmd_runs[0][0][backend]
    assert [name for name, result in ran][1:] == ['nfv.dpdk.dpdk_testpmd : Check that testpmd gets ports']
    assert ran[1][1].get('failed') is True
    message = ran[1][1]['msg']
    for fragment in expected:
        assert fragment in message
    assert 'sriov_count (VFs from the device plugin)' not in message  # the filter's wording, not the role's


def test_testpmd_podman_vf_count_is_checked_at_entry(testpmd_runs):
    ran = testpmd_runs[0][0]['podman_vf_count']
    assert [name for name, result in ran][1:] == [
        'nfv.dpdk.dpdk_testpmd : Check that testpmd gets ports',
        'nfv.dpdk.dpdk_testpmd : Check that the podman pod gets as many VFs as it requests']
    assert ran[-1][1].get('failed') is True
    assert 'dpdk_testpmd_sriov_count is 2 but dpdk_testpmd_podman_pci_devices lists 1 VF(s)' in ran[-1][1]['msg']


def test_testpmd_refuses_a_misspelt_choice(testpmd_runs):
    assert_refused_at_validation(testpmd_runs[0][0]['bad_choice'], 'dpdk_testpmd_backend must be one of: kubernetes, podman')


def test_validation_leaves_the_bindings_as_written(tmp_path):
    """The mirrored nested defaults (driver, persist...) are not written into the variable that the role
    hands to driver_bind as ``"{{ item }}"``: ansible-core validates a copy."""
    with open(os.path.join(ROOT, 'roles', 'dpdk_node', 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options']
    bindings = [{'vfs_of': ['0000:41:00.0']}]
    runs, rc = run_play(tmp_path, {'passthrough': {'dpdk_node_bindings': bindings}}, tasks=[
        {'name': 'Validate like the role does', 'ansible.builtin.validate_argument_spec': {'argument_spec': spec}},
        {'name': 'Show what a task gets afterwards', 'ansible.builtin.debug': {'var': 'dpdk_node_bindings'}},
    ])
    ran = runs['passthrough']
    assert rc == 0, ran
    assert ran[0][1].get('failed') is not True
    assert ran[1][1]['dpdk_node_bindings'] == bindings
