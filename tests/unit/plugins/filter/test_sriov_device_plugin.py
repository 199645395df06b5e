# -*- coding: utf-8 -*-
"""The sriov_device_plugin filters as playbooks call them: one host's list, hosts as a dict, errors."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.filter.sriov_device_plugin import FilterModule

FILTERS = FilterModule().filters()
DPDK = {'resource_name': 'intel_sriov_dpdk', 'pf': 'ens1f0', 'vfs': '0-7', 'driver': 'vfio-pci',
        'network': {'name': 'sriov-dpdk'}}
NETDEV = {'resource_name': 'intel_sriov_netdevice', 'pf': 'ens1f0', 'vfs': '8-15', 'driver': 'iavf'}


def test_filters_are_named_as_documented():
    assert sorted(FILTERS) == ['sriov_device_plugin_config', 'sriov_device_plugin_dpdk_resource', 'sriov_network_attachments']


def test_one_host_and_hosts_by_name_give_the_same_configuration():
    single = FILTERS['sriov_device_plugin_config']([DPDK, NETDEV], sriov_pfs=[{'device': 'ens1f0', 'num_vfs': 16}])
    by_host = FILTERS['sriov_device_plugin_config']({'w1': [DPDK, NETDEV]}, sriov_pfs={'w1': [{'device': 'ens1f0', 'num_vfs': 16}]})
    assert single == by_host
    assert [r['resourceName'] for r in single['resourceList']] == ['intel_sriov_dpdk', 'intel_sriov_netdevice']


def test_networks_and_the_dpdk_resource():
    networks = FILTERS['sriov_network_attachments']([DPDK, NETDEV])
    assert [n['metadata']['annotations']['k8s.v1.cni.cncf.io/resourceName'] for n in networks] == ['intel.com/intel_sriov_dpdk']
    assert FILTERS['sriov_device_plugin_dpdk_resource']([NETDEV, DPDK]) == 'intel.com/intel_sriov_dpdk'


def test_errors_are_filter_errors_naming_the_filter_the_host_and_the_field():
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS['sriov_device_plugin_config']([dict(DPDK, vfs='0-16')], sriov_pfs=[{'device': 'ens1f0', 'num_vfs': 16}], host='w1')
    assert str(info.value).startswith('sriov_device_plugin_config: w1: sriov_device_plugin_resources[0].vfs: 0-16 reaches VF 16')
    with pytest.raises(AnsibleFilterError) as info:
        FILTERS['sriov_device_plugin_config']({'w1': [DPDK]}, sriov_pfs=[])
    assert 'sriov_pfs: with resources per host (a dict), give the VF plans per host too' in str(info.value)
