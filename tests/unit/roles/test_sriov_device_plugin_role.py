# -*- coding: utf-8 -*-
"""The sriov_device_plugin role: its spec against the logic it feeds, and runs in file mode on localhost.

The file-mode runs write the configuration below a temporary directory only
(sriov_device_plugin_config_file), so they touch nothing of this machine.
"""

import json
import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nfv.dpdk.plugins.module_utils import sriov_device_plugin as plugin
from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import ROOT, run_local_play

ROLE = os.path.join(ROOT, 'roles', 'sriov_device_plugin')


def spec():
    with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


def defaults():
    with open(os.path.join(ROLE, 'defaults', 'main.yml')) as handle:
        return yaml.safe_load(handle)


def test_nested_options_are_the_keys_the_logic_reads():
    resources = spec()['sriov_device_plugin_resources']
    assert resources['type'] == 'list' and resources['elements'] == 'dict'
    assert sorted(resources['options']) == sorted(plugin.RESOURCE_KEYS)
    assert sorted(resources['options']['network']['options']) == sorted(plugin.NETWORK_KEYS)
    network = resources['options']['network']['options']
    assert network['spoofchk']['choices'] == list(plugin.ON_OFF) and network['trust']['choices'] == list(plugin.ON_OFF)
    assert network['link_state']['choices'] == list(plugin.LINK_STATES)
    # nested defaults are documentation (the validator does not write them back): the logic has the same ones
    assert resources['options']['resource_prefix']['default'] == plugin.DEFAULT_PREFIX
    assert network['cni_version']['default'] == plugin.DEFAULT_CNI_VERSION
    assert network['namespace']['default'] == 'default'


def test_spec_and_defaults_agree():
    options, values = spec(), defaults()
    assert sorted(values) == sorted(name for name, option in options.items() if 'default' in option)
    assert dict((name, options[name]['default']) for name in values) == values
    assert values['sriov_device_plugin_config_file'] == plugin.CONFIG_PATH


def test_cluster_access_follows_the_collection_convention():
    values = defaults()
    assert values['sriov_device_plugin_kubeconfig'] == '{{ nfv_dpdk_kubeconfig | default(None) }}'
    assert values['sriov_device_plugin_kube_context'] == '{{ nfv_dpdk_kube_context | default(None) }}'
    # talking to the cluster for the networks is switched by a boolean, not by a kubeconfig
    assert values['sriov_device_plugin_multus'] is False


@pytest.mark.parametrize('variables, message', [
    ({'sriov_device_plugin_resources': [{'resource_name': 'a', 'pf': 'ens1f0', 'drivr': 'vfio-pci'}]},
     'sriov_device_plugin_resources.drivr'),
    ({'sriov_device_plugin_resources': [{'resource_name': 'a', 'pf': 'ens1f0'}]},
     'missing required arguments: driver found in sriov_device_plugin_resources'),
    ({'sriov_device_plugin_resources': [{'resource_name': 'a', 'pf': 'ens1f0', 'driver': 'iavf',
                                         'network': {'name': 'n', 'vlna': 3}}]},
     'sriov_device_plugin_resources.network.vlna'),
    ({'sriov_device_plugin_mode': 'configmaps'}, 'sriov_device_plugin_mode must be one of: configmap, file'),
])
def test_the_spec_refuses_misspelt_keys(variables, message):
    result = ArgumentSpecValidator(spec()).validate(variables, validate_role_argument_spec=True)
    assert message in '\n'.join(result.error_messages)


# -- the role at work, file mode on localhost --------------------------------------------------------

SPLIT = [
    {'resource_name': 'intel_sriov_dpdk', 'pf': 'ens1f0', 'vfs': '0-7', 'driver': 'vfio-pci',
     'network': {'name': 'sriov-dpdk', 'vlan': 100}},
    {'resource_name': 'intel_sriov_netdevice', 'pf': 'ens1f0', 'vfs': '8-15', 'driver': 'iavf'},
]


def run_role(tmp_path, hosts, check=False, diff=False, extra=None):
    play = {'name': 'sriov device plugin', 'hosts': 'all', 'gather_facts': False,
            'roles': [{'role': 'nfv.dpdk.sriov_device_plugin', 'vars': dict({'sriov_device_plugin_mode': 'file'}, **(extra or {}))}]}
    report, rc = run_local_play(tmp_path, play, dict(
        (name, dict(variables, sriov_device_plugin_config_file=str(tmp_path / name / 'pcidp' / 'config.json')))
        for name, variables in hosts.items()), (['--check'] if check else []) + (['--diff'] if diff else []))
    # task names without the role's prefix ("nfv.dpdk.sriov_device_plugin : ")
    tasks = dict((task['task']['name'].split(' : ', 1)[-1], task['hosts']) for task in report['plays'][0]['tasks'])
    return tasks, report['stats'], rc


def test_file_mode_check_run_real_run_and_rerun(tmp_path):
    hosts = {'worker1': {'dpdk_node_sriov_pfs': [{'device': 'ens1f0', 'num_vfs': 16}], 'sriov_device_plugin_resources': SPLIT},
             'worker2': {'sriov_device_plugin_resources': [{'resource_name': 'intel_sriov_dpdk', 'pf': '0000:86:00.0',
                                                            'vfs': '0-3', 'driver': 'vfio-pci'}]}}
    target = tmp_path / 'worker1' / 'pcidp' / 'config.json'
    tasks, stats, rc = run_role(tmp_path, hosts, check=True, diff=True)
    assert rc == 0, stats
    write = tasks["Write the standalone device plugin's configuration"]
    assert write['worker1']['changed'] and write['worker2']['changed']
    assert '"pfNames": [\n' in write['worker1']['diff'][0]['after']
    assert not target.exists()
    facts = tasks["Validate this node's VF pools and name its DPDK resource"]
    assert facts['worker1']['ansible_facts']['sriov_device_plugin_dpdk_resource'] == 'intel.com/intel_sriov_dpdk'
    merged = tasks['Merge the VF pools of every host of the play']['worker1']['ansible_facts']
    assert [s for r in merged['sriov_device_plugin_config']['resourceList'] for s in r['selectors']] == [
        {'drivers': ['vfio-pci'], 'pfNames': ['ens1f0#0-7']},
        {'drivers': ['vfio-pci'], 'rootDevices': ['0000:86:00.0#0-3']},
        {'drivers': ['iavf'], 'pfNames': ['ens1f0#8-15']}]
    assert [m['metadata']['name'] for m in merged['sriov_device_plugin_networks']] == ['sriov-dpdk']

    tasks, stats, rc = run_role(tmp_path, hosts)
    assert rc == 0, stats
    # each node's file has that node's own pools only
    assert json.loads(target.read_text()) == plugin.device_plugin_config(
        plugin.as_hosts(SPLIT, [{'device': 'ens1f0', 'num_vfs': 16}]))
    assert oct(target.stat().st_mode & 0o777) == '0o644'
    second = json.loads((tmp_path / 'worker2' / 'pcidp' / 'config.json').read_text())
    assert [r['resourceName'] for r in second['resourceList']] == ['intel_sriov_dpdk']

    tasks, stats, rc = run_role(tmp_path, hosts)
    assert rc == 0 and stats['worker1']['changed'] == 0 and stats['worker2']['changed'] == 0, stats


def test_a_bad_plan_on_one_host_fails_before_anything_is_written(tmp_path):
    hosts = {'worker1': {'dpdk_node_sriov_pfs': [{'device': 'ens1f0', 'num_vfs': 8}], 'sriov_device_plugin_resources': SPLIT},
             'worker2': {'sriov_device_plugin_resources': SPLIT}}
    tasks, stats, rc = run_role(tmp_path, hosts)
    assert rc != 0
    failed = tasks["Validate this node's VF pools and name its DPDK resource"]['worker1']
    assert failed['failed'] and ('worker1: sriov_device_plugin_resources[1].vfs: 8-15 reaches VF 15 but ens1f0 has '
                                 'num_vfs 8 (VFs 0-7)') in failed['msg']
    assert not (tmp_path / 'worker1').exists() and not (tmp_path / 'worker2').exists()


def test_nodes_that_disagree_fail_the_merge_and_nothing_is_written(tmp_path):
    hosts = {'worker1': {'sriov_device_plugin_resources': SPLIT},
             'worker2': {'sriov_device_plugin_resources': [dict(SPLIT[0], vfs='0-3')]}}
    tasks, stats, rc = run_role(tmp_path, hosts)
    assert rc != 0
    merge = tasks['Merge the VF pools of every host of the play']
    message = ' '.join(result.get('msg', '') for result in merge.values())
    assert 'intel.com/intel_sriov_dpdk selects ens1f0#0-3 but worker1: sriov_device_plugin_resources[0] selects ens1f0#0-7' in message
    assert not (tmp_path / 'worker1').exists() and not (tmp_path / 'worker2').exists()
