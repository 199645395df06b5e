# -*- coding: utf-8 -*-
"""The device plugin configuration and the NetworkAttachmentDefinitions from VF plans (issue 15)."""
import json
import os
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml

from ansible_collections.nfv.dpdk.plugins.module_utils import sriov_device_plugin as plugin
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov_device_plugin import InvalidSriovPlan

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
CRD = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'crds', 'network-attachment-definition.yaml')

# The fields the plugin's README ("Config parameters", "Network devices selectors") documents.
RESOURCE_FIELDS = {'resourceName', 'resourcePrefix', 'deviceType', 'excludeTopology', 'selectors', 'additionalInfo'}
NETDEVICE_SELECTOR_FIELDS = {'vendors', 'devices', 'drivers', 'pciAddresses', 'acpiIndexes', 'pfNames', 'rootDevices',
                             'linkTypes', 'ddpProfiles', 'pKeys', 'isRdma', 'needVhostNet', 'vdpaType'}
PLUGIN_RESOURCE_NAME = r'^[a-zA-Z0-9_-]+$'

SPLIT_PF = [
    {'resource_name': 'intel_sriov_dpdk', 'pf': 'ens1f0', 'vfs': '0-7', 'driver': 'vfio-pci', 'vendor': '8086',
     'device': '154c', 'network': {'name': 'sriov-dpdk', 'vlan': 100}},
    {'resource_name': 'intel_sriov_netdevice', 'pf': 'ens1f0', 'vfs': '8-15', 'driver': 'iavf', 'vendor': '8086',
     'device': '154c', 'network': {'name': 'sriov-net', 'namespace': 'cnf',
                                   'ipam': {'type': 'host-local', 'subnet': '10.56.217.0/24'}}},
]
PLAN = [{'device': 'ens1f0', 'num_vfs': 16}]


def config(resources, sriov_pfs=None):
    return plugin.device_plugin_config(plugin.as_hosts(resources, sriov_pfs=sriov_pfs, host='worker1'))


def refusal(resources, sriov_pfs=None):
    with pytest.raises(InvalidSriovPlan) as info:
        config(resources, sriov_pfs)
    return str(info.value)


def assert_documented(result):
    assert set(result) == {'resourceList'}
    for resource in result['resourceList']:
        assert set(resource) <= RESOURCE_FIELDS, resource

        assert re.match(PLUGIN_RESOURCE_NAME, resource['resourceName'])
        assert resource['deviceType'] == 'netDevice'
        assert isinstance(resource['selectors'], list) and resource['selectors']
        for selector in resource['selectors']:
            assert set(selector) <= NETDEVICE_SELECTOR_FIELDS, selector
            for key, value in selector.items():
                assert isinstance(value, bool) if key in ('isRdma', 'needVhostNet') else \
                    (isinstance(value, list) and all(isinstance(item, str) for item in value)), (key, value)


def test_split_pf_gives_one_resource_per_range():
    result = config(SPLIT_PF, PLAN)
    assert_documented(result)
    assert result == {'resourceList': [
        {'resourceName': 'intel_sriov_dpdk', 'resourcePrefix': 'intel.com', 'deviceType': 'netDevice',
         'selectors': [{'vendors': ['8086'], 'devices': ['154c'], 'drivers': ['vfio-pci'], 'pfNames': ['ens1f0#0-7']}]},
        {'resourceName': 'intel_sriov_netdevice', 'resourcePrefix': 'intel.com', 'deviceType': 'netDevice',
         'selectors': [{'vendors': ['8086'], 'devices': ['154c'], 'drivers': ['iavf'], 'pfNames': ['ens1f0#8-15']}]},
    ]}
    # What the plugin unmarshals: JSON, the list form of selectors.
    assert json.loads(json.dumps(result)) == result


def test_pf_by_address_is_a_root_device_and_all_vfs_have_no_range():
    result = config([{'resource_name': 'dpdk', 'resource_prefix': 'example.com', 'pf': '86:00.0', 'driver': 'vfio-pci',
                      'need_vhost_net': True}])
    assert_documented(result)
    assert result['resourceList'][0]['selectors'] == [
        {'drivers': ['vfio-pci'], 'rootDevices': ['0000:86:00.0'], 'needVhostNet': True}]
    assert result['resourceList'][0]['resourcePrefix'] == 'example.com'


def test_ranges_in_the_plugins_syntax():
    assert plugin.parse_vf_range('0,2-7,9', 'vfs') == [0, 2, 3, 4, 5, 6, 7, 9]
    assert plugin.format_vf_range([9, 0, 2, 3, 4, 5, 6, 7]) == '0,2-7,9'
    assert plugin.format_vf_range([3]) == '3'
    assert config([{'resource_name': 'a', 'pf': 'ens1f0', 'vfs': 3, 'driver': 'vfio-pci'}])[
        'resourceList'][0]['selectors'][0]['pfNames'] == ['ens1f0#3']


def test_two_hosts_merge_into_one_configmap():
    hosts = [
        {'host': 'worker1', 'resources': SPLIT_PF, 'sriov_pfs': PLAN},
        # an identical node: its entries merge into the same selectors
        {'host': 'worker2', 'resources': SPLIT_PF, 'sriov_pfs': PLAN},
        # a node whose PF has another name, and one given by address
        {'host': 'worker3', 'resources': [
            {'resource_name': 'intel_sriov_dpdk', 'pf': 'ens2f0', 'vfs': '0-7', 'driver': 'vfio-pci', 'vendor': '8086',
             'device': '154c'},
            {'resource_name': 'intel_sriov_dpdk', 'pf': '0000:3b:00.1', 'vfs': '0-1', 'driver': 'vfio-pci'}]},
    ]
    result = plugin.device_plugin_config(hosts)
    assert_documented(result)
    dpdk = result['resourceList'][0]
    assert dpdk['resourceName'] == 'intel_sriov_dpdk'
    assert dpdk['selectors'] == [
        {'drivers': ['vfio-pci'], 'rootDevices': ['0000:3b:00.1#0-1']},
        {'vendors': ['8086'], 'devices': ['154c'], 'drivers': ['vfio-pci'], 'pfNames': ['ens1f0#0-7', 'ens2f0#0-7']},
    ]
    assert len(result['resourceList']) == 2
    # the same through the dict form the role passes (host -> resources, host -> VF plan)
    by_host = plugin.as_hosts({'worker1': SPLIT_PF, 'worker2': SPLIT_PF, 'worker3': hosts[2]['resources']},
                              sriov_pfs={'worker1': PLAN, 'worker2': PLAN})
    assert plugin.device_plugin_config(by_host) == result


def test_nodes_with_different_ranges_of_one_pf_in_one_resource_are_refused():
    other = [dict(SPLIT_PF[0], vfs='0-3')]
    with pytest.raises(InvalidSriovPlan) as info:
        plugin.device_plugin_config([{'host': 'worker1', 'resources': SPLIT_PF, 'sriov_pfs': PLAN},
                                     {'host': 'worker2', 'resources': other}])
    assert ('worker2: sriov_device_plugin_resources[0].vfs: intel.com/intel_sriov_dpdk selects ens1f0#0-3 but '
            'worker1: sriov_device_plugin_resources[0] selects ens1f0#0-7 there') in str(info.value)


def test_one_resource_with_two_drivers_on_two_nodes_is_refused():
    with pytest.raises(InvalidSriovPlan) as info:
        plugin.device_plugin_config([
            {'host': 'a', 'resources': [{'resource_name': 'pool', 'pf': 'ens1f0', 'driver': 'vfio-pci'}]},
            {'host': 'b', 'resources': [{'resource_name': 'pool', 'pf': 'ens1f0', 'driver': 'iavf'}]}])
    assert 'b: sriov_device_plugin_resources[0].driver: intel.com/pool is iavf here but vfio-pci in a: ' in str(info.value)


@pytest.mark.parametrize('resources, message', [
    ([dict(SPLIT_PF[0]), dict(SPLIT_PF[1], vfs='7-15')],
     'worker1: sriov_device_plugin_resources[1].vfs: VFs 7 of ens1f0 are in sriov_device_plugin_resources[0] too'),
    ([dict(SPLIT_PF[0]), dict(SPLIT_PF[1], vfs=None)],
     'worker1: sriov_device_plugin_resources[1].vfs: VFs 0-7 of ens1f0 are in sriov_device_plugin_resources[0] too'),
    ([dict(SPLIT_PF[0], vfs='8-16')],
     'worker1: sriov_device_plugin_resources[0].vfs: 8-16 reaches VF 16 but ens1f0 has num_vfs 16 (VFs 0-15)'),
    ([dict(SPLIT_PF[0]), dict(SPLIT_PF[1], resource_name='intel_sriov_dpdk')],
     'worker1: sriov_device_plugin_resources[1].driver: intel.com/intel_sriov_dpdk is iavf here but vfio-pci in '
     'sriov_device_plugin_resources[0]: one resource, one driver'),
    ([dict(SPLIT_PF[0], resource_name='intel.sriov')], "sriov_device_plugin_resources[0].resource_name: 'intel.sriov' is not"),
    ([dict(SPLIT_PF[0], resource_name='intel/dpdk')], "sriov_device_plugin_resources[0].resource_name: 'intel/dpdk' is not"),
    ([dict(SPLIT_PF[0], resource_name='_dpdk')], "sriov_device_plugin_resources[0].resource_name: '_dpdk' is not"),
    ([dict(SPLIT_PF[0], resource_name='x' * 64)], 'sriov_device_plugin_resources[0].resource_name'),
    ([dict(SPLIT_PF[0], resource_prefix='Intel_com')], "sriov_device_plugin_resources[0].resource_prefix: 'Intel_com'"),
    ([dict(SPLIT_PF[0], pf='ens1f0#0-7', vfs=None)], "give the VF range in vfs, not after '#'"),
    ([dict(SPLIT_PF[0], pf=2460.0)], 'sriov_device_plugin_resources[0].pf: got 2460.0, which is what YAML makes of an '
                                     'unquoted PCI address'),
    ([dict(SPLIT_PF[0], pf='0000:86:20.0')], "sriov_device_plugin_resources[0].pf: '0000:86:20.0' is not a PCI address"),
    ([dict(SPLIT_PF[0], vfs='7-0')], 'sriov_device_plugin_resources[0].vfs: \'7-0\': the range 7-0 ends before it starts'),
    ([dict(SPLIT_PF[0], vfs='a-b')], "sriov_device_plugin_resources[0].vfs: 'a-b' is not a VF range"),
    ([dict(SPLIT_PF[0], driver='kernel')], "sriov_device_plugin_resources[0].driver: give the kernel VF driver's name"),
    ([dict(SPLIT_PF[0], driver='VFIO PCI')], "sriov_device_plugin_resources[0].driver: 'VFIO PCI' is not a driver name"),
    ([dict(SPLIT_PF[0], vendor='80z6')], "sriov_device_plugin_resources[0].vendor: '80z6' is not a 4-digit"),
    ([dict(SPLIT_PF[0], device=1520)], 'sriov_device_plugin_resources[0].device: got 1520, which is what YAML makes of an unquoted PCI id'),
    ([dict(SPLIT_PF[0], vfs_range='0-3')], 'sriov_device_plugin_resources[0].vfs_range: unknown option'),
    ([dict(SPLIT_PF[0], network={'name': 'Bad_Name'})], "sriov_device_plugin_resources[0].network.name: 'Bad_Name'"),
    ([dict(SPLIT_PF[0], network={'name': 'n', 'vlan': 4095})], 'sriov_device_plugin_resources[0].network.vlan: 4095 is not'),
    ([dict(SPLIT_PF[0], network={'name': 'n', 'ipam': '{bad'})], 'sriov_device_plugin_resources[0].network.ipam: not JSON'),
    ([dict(SPLIT_PF[0], network={'name': 'n', 'ipam': {'subnet': '10.0.0.0/24'}})],
     'sriov_device_plugin_resources[0].network.ipam: must be a CNI IPAM object with a type'),
    ([dict(SPLIT_PF[0], network={'name': 'n', 'trust': 'yes'})], "network.trust: 'yes' is not one of on, off"),
    ([dict(SPLIT_PF[0], network={'name': 'n', 'vlna': 3})], 'sriov_device_plugin_resources[0].network.vlna: unknown option'),
    ([dict(SPLIT_PF[0], network={'name': 'n'}), dict(SPLIT_PF[1], network={'name': 'n'})],
     'sriov_device_plugin_resources[1].network.name: default/n is the network of intel.com/intel_sriov_dpdk too'),
    ('ens1f0', 'sriov_device_plugin_resources: must be a list of dicts'),
])
def test_refusals_name_the_field(resources, message):
    assert message in refusal(resources, PLAN)


def test_bad_vf_plan_is_named():
    assert 'worker1: dpdk_node_sriov_pfs[0].num_vfs: -1 is not a VF count' in refusal(SPLIT_PF, [{'device': 'ens1f0', 'num_vfs': -1}])


def test_num_vfs_zero_leaves_a_resource_empty():
    assert 'ens1f0 has num_vfs 0 in dpdk_node_sriov_pfs' in refusal([dict(SPLIT_PF[0], vfs=None)], [{'device': 'ens1f0', 'num_vfs': 0}])


def test_without_a_plan_ranges_are_not_checked_against_num_vfs_but_overlaps_are():
    assert config([dict(SPLIT_PF[0], vfs='0-63')])['resourceList'][0]['selectors'][0]['pfNames'] == ['ens1f0#0-63']
    assert 'all VFs (num_vfs unknown' in refusal([dict(SPLIT_PF[0]), dict(SPLIT_PF[1], vfs=None)])


def test_the_dpdk_resource_is_the_first_vfio_pool():
    assert plugin.dpdk_resource(list(reversed(SPLIT_PF)), PLAN) == 'intel.com/intel_sriov_dpdk'
    assert plugin.dpdk_resource([SPLIT_PF[1]], PLAN) is None
    assert plugin.dpdk_resource([dict(SPLIT_PF[0], driver='uio_pci_generic')], PLAN) is None
    assert plugin.dpdk_resource([], None) is None


# -- the NetworkAttachmentDefinitions against their CRD ----------------------------------------------

def nad_schema():
    with open(CRD) as handle:
        crd = yaml.safe_load(handle)
    assert crd['spec']['group'] + '/' + crd['spec']['versions'][0]['name'] == plugin.NAD_API_VERSION
    assert crd['spec']['names']['kind'] == 'NetworkAttachmentDefinition'
    return crd['spec']['versions'][0]['schema']['openAPIV3Schema']


def test_network_attachments_validate_against_the_crd():
    manifests = plugin.network_attachments(plugin.as_hosts(SPLIT_PF, PLAN, host='worker1'))
    assert [m['metadata']['name'] for m in manifests] == ['sriov-dpdk', 'sriov-net']
    schema = nad_schema()
    for manifest in manifests:
        jsonschema.validate(manifest, schema)
        assert manifest['apiVersion'] == 'k8s.cni.cncf.io/v1' and manifest['kind'] == 'NetworkAttachmentDefinition'
        # what the schema cannot see: metadata is a valid ObjectMeta (kubernetes-validate checks it on a ConfigMap)
        kubernetes_validate.validate({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': manifest['metadata']},
                                     '1.30', strict=True)
    dpdk, net = manifests
    assert dpdk['metadata']['annotations'] == {'k8s.v1.cni.cncf.io/resourceName': 'intel.com/intel_sriov_dpdk'}
    assert json.loads(dpdk['spec']['config']) == {'cniVersion': '0.3.1', 'name': 'sriov-dpdk', 'type': 'sriov', 'vlan': 100}
    assert net['metadata']['namespace'] == 'cnf'
    assert json.loads(net['spec']['config'])['ipam'] == {'type': 'host-local', 'subnet': '10.56.217.0/24'}


def test_the_crd_schema_refuses_a_config_that_is_not_a_string():
    manifest = plugin.network_attachments(plugin.as_hosts(SPLIT_PF, PLAN))[0]
    manifest['spec']['config'] = json.loads(manifest['spec']['config'])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, nad_schema())


def test_sriov_cni_options_are_passed_by_their_cni_names():
    network = {'name': 'n', 'vlan': 10, 'vlan_qos': 3, 'spoofchk': False, 'trust': 'on', 'link_state': 'enable',
               'min_tx_rate': 100, 'max_tx_rate': 1000, 'cni_version': '1.0.0'}
    manifest = plugin.network_attachments(plugin.as_hosts([dict(SPLIT_PF[0], network=network)], PLAN))[0]
    assert json.loads(manifest['spec']['config']) == {
        'cniVersion': '1.0.0', 'name': 'n', 'type': 'sriov', 'vlan': 10, 'vlanQoS': 3, 'spoofchk': 'off', 'trust': 'on',
        'link_state': 'enable', 'min_tx_rate': 100, 'max_tx_rate': 1000}


@pytest.mark.parametrize('version', ['1.28', '1.30', '1.32'])
def test_the_configmap_is_valid(version):
    result = config(SPLIT_PF, PLAN)
    configmap = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'sriovdp-config', 'namespace': 'kube-system'},
                 'data': {'config.json': json.dumps(result, indent=2, sort_keys=True)}}
    kubernetes_validate.validate(configmap, version, strict=True)
