# -*- coding: utf-8 -*-
"""The dpdk_testpmd role's Pod: rendered from the role's own defaults and task wiring.

The role's manifest task maps role variables to pod parameters (tasks/main.yml); this test
templates that mapping with ansible's Templar over defaults/main.yml (plus overrides),
builds the Pod with the same filter code the role calls, validates it with
kubernetes-validate --strict for the supported Kubernetes versions and checks what the
schema cannot: Guaranteed QoS, hugepages, no privilege, only IPC_LOCK.
"""

import os

import kubernetes_validate
import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 templates every string it is given
    def trust_as_template(value):
        return value

from ansible_collections.nfv.dpdk.plugins.filter.testpmd import FilterModule
from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'dpdk_testpmd')
KUBERNETES_VERSIONS = ['1.29.0', '1.30.0', '1.31.0', '1.32.0', '1.33.0']
FILTERS = FilterModule().filters()


def _trust(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((key, _trust(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_trust(item) for item in value]
    return value


def role_params(**overrides):
    """The pod parameters the role computes from its defaults and ``overrides``."""
    with open(os.path.join(ROLE, 'defaults', 'main.yml')) as handle:
        variables = yaml.safe_load(handle)
    with open(os.path.join(ROLE, 'tasks', 'main.yml')) as handle:
        # the task after the entry checks
        manifest_task = [task for task in yaml.safe_load(handle) if task['name'] == 'Build the testpmd Pod manifest'][0]
    variables['role_path'] = ROLE
    # what ansible sets for a host of the inventory (no facts gathered unless a test gives them)
    variables['inventory_hostname'] = 'worker-1'
    variables.update(overrides)
    templar = Templar(loader=DataLoader(), variables=_trust(variables))
    return templar.template(_trust(manifest_task['vars']['dpdk_testpmd_pod_params']))


def manifest(**overrides):
    return FILTERS['testpmd_pod_manifest'](role_params(**overrides))


SRIOV = dict(dpdk_testpmd_sriov_count=2, dpdk_testpmd_networks=['sriov-dpdk-a', 'sriov-dpdk-b'],
             dpdk_testpmd_forward_mode='mac', dpdk_testpmd_eth_peers=['02:00:00:00:00:02', '02:00:00:00:00:01'],
             dpdk_testpmd_node_selector={'kubernetes.io/hostname': 'worker-1'}, dpdk_testpmd_cpus=4,
             dpdk_testpmd_hugepage_size='1Gi', dpdk_testpmd_hugepages='2Gi', dpdk_testpmd_memory='2Gi')
VARIANTS = {
    'null_vdevs': dict(dpdk_testpmd_vdevs=['net_null0', 'net_null1']),
    'af_packet_vdev': dict(dpdk_testpmd_vdevs=['net_af_packet0,iface=eth0'], dpdk_testpmd_forward_mode='rxonly'),
    'sriov_two_vfs': SRIOV,
    'pinned_fqdn_node_with_selector': dict(SRIOV, nfv_dpdk_k8s_node_name='worker-7.lab.example.com'),
    'sriov_custom_resource': dict(SRIOV, dpdk_testpmd_sriov_resource='openshift.io/mlx_dpdk', dpdk_testpmd_namespace='dpdk-test',
                                  dpdk_testpmd_name='tp-1', dpdk_testpmd_labels={'team': 'ran'}),
}


@pytest.mark.parametrize('variant', sorted(VARIANTS))
@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_manifest_is_a_valid_pod_for_every_supported_kubernetes(variant, version):
    pod = manifest(**VARIANTS[variant])
    kubernetes_validate.validate(pod, version, strict=True)


@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_podman_rewrite_is_still_a_valid_pod(version):
    pod = FILTERS['testpmd_podman_manifest'](manifest(**SRIOV), '/dev/hugepages', ['0000:41:02.0', '0000:81:02.0'], ['45', '61'])
    kubernetes_validate.validate(pod, version, strict=True)


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_guaranteed_qos_hugepages_and_no_privilege(variant):
    pod = manifest(**VARIANTS[variant])
    assert pod['spec']['restartPolicy'] == 'Never'
    for container in pod['spec']['containers']:
        resources = container['resources']
        # Guaranteed: every container sets cpu and memory, requests == limits, whole CPUs.
        assert resources['requests'] == resources['limits']
        assert int(resources['limits']['cpu']) >= 2 and str(int(resources['limits']['cpu'])) == resources['limits']['cpu']
        assert 'memory' in resources['limits']
        huge = [key for key in resources['limits'] if key.startswith('hugepages-')]
        assert len(huge) == 1
        security = container['securityContext']
        assert security['privileged'] is False and security['allowPrivilegeEscalation'] is False
        assert security['capabilities']['drop'] == ['ALL']
        assert 'IPC_LOCK' in security['capabilities']['add']
        mount = [m for m in container['volumeMounts'] if m['mountPath'] == '/dev/hugepages']
        assert len(mount) == 1
        volume = [v for v in pod['spec']['volumes'] if v['name'] == mount[0]['name']][0]
        assert volume['emptyDir']['medium'] == 'HugePages-' + huge[0][len('hugepages-'):]


def test_defaults_with_null_vdevs():
    pod = manifest(dpdk_testpmd_vdevs=['net_null0', 'net_null1'])
    container = pod['spec']['containers'][0]
    assert container['image'] == 'localhost/nfv-dpdk-testpmd:latest'
    assert container['resources']['limits'] == {'cpu': '2', 'memory': '1Gi', 'hugepages-2Mi': '1Gi'}
    assert container['securityContext']['capabilities']['add'] == ['IPC_LOCK']
    env = dict((item['name'], item['value']) for item in container['env'])
    assert env['TESTPMD_VDEVS'] == 'net_null0;net_null1' and env['TESTPMD_PCI_ENV'] == ''
    assert env['TESTPMD_FORWARD_MODE'] == 'io' and env['TESTPMD_DURATION'] == '10'
    assert 'annotations' not in pod['metadata'] and 'nodeSelector' not in pod['spec']
    assert pod['spec']['activeDeadlineSeconds'] == 310


def test_sriov_pod_requests_vfs_with_multus_and_only_ipc_lock():
    pod = manifest(**SRIOV)
    container = pod['spec']['containers'][0]
    expected = {'cpu': '4', 'memory': '2Gi', 'hugepages-1Gi': '2Gi', 'intel.com/intel_sriov_dpdk': '2'}
    assert container['resources']['limits'] == expected
    assert container['securityContext']['capabilities'] == {'add': ['IPC_LOCK'], 'drop': ['ALL']}
    assert pod['metadata']['annotations'] == {'k8s.v1.cni.cncf.io/networks': 'sriov-dpdk-a,sriov-dpdk-b'}
    assert pod['spec']['nodeSelector'] == {'kubernetes.io/hostname': 'worker-1'}
    assert pod['spec']['volumes'] == [{'name': 'hugepages', 'emptyDir': {'medium': 'HugePages-1Gi'}}]
    env = dict((item['name'], item['value']) for item in container['env'])
    assert env['TESTPMD_PCI_ENV'] == 'PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK'
    assert env['TESTPMD_ETH_PEERS'] == '02:00:00:00:00:02,02:00:00:00:00:01'
    assert env['TESTPMD_FORWARD_MODE'] == 'mac' and env['TESTPMD_VDEVS'] == ''


def test_vdevs_with_a_kernel_interface_get_the_capability_they_need():
    caps = manifest(dpdk_testpmd_vdevs=['net_af_packet0,iface=eth0'])['spec']['containers'][0]['securityContext']['capabilities']
    assert caps == {'add': ['IPC_LOCK', 'NET_RAW'], 'drop': ['ALL']}


def test_podman_rewrite_maps_hugepages_and_vfio_devices():
    pod = FILTERS['testpmd_podman_manifest'](manifest(**SRIOV), '/run/huge', ['0000:41:02.0', '0000:81:02.0'], ['45', '61', '45'])
    spec = pod['spec']
    container = spec['containers'][0]
    # No cpu limit: podman makes it a CFS quota, which throttles a polling DPDK process.
    assert container['resources']['limits'] == {'memory': '2Gi'}
    assert container['resources']['requests'] == {'cpu': '4', 'memory': '2Gi'}
    assert spec['volumes'] == [
        {'name': 'hugepages', 'hostPath': {'path': '/run/huge', 'type': 'Directory'}},
        {'name': 'vfio-vfio', 'hostPath': {'path': '/dev/vfio/vfio', 'type': 'CharDevice'}},
        {'name': 'vfio-45', 'hostPath': {'path': '/dev/vfio/45', 'type': 'CharDevice'}},
        {'name': 'vfio-61', 'hostPath': {'path': '/dev/vfio/61', 'type': 'CharDevice'}},
    ]
    assert [m['mountPath'] for m in container['volumeMounts']] == ['/dev/hugepages', '/dev/vfio/vfio', '/dev/vfio/45', '/dev/vfio/61']
    env = dict((item['name'], item['value']) for item in container['env'])
    assert env['PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK'] == '0000:41:02.0,0000:81:02.0'
    assert env['TESTPMD_PCI_ENV'] == 'PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK'
    assert 'nodeSelector' not in spec and 'annotations' not in pod['metadata'] and 'namespace' not in pod['metadata']
    assert container['securityContext']['capabilities'] == {'add': ['IPC_LOCK'], 'drop': ['ALL']}
    # The input manifest is not modified.
    assert manifest(**SRIOV)['spec']['volumes'][0]['emptyDir'] == {'medium': 'HugePages-1Gi'}


@pytest.mark.parametrize('overrides,message', [
    ({}, 'testpmd needs ports'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_cpus': 0}, 'cpus must be between 1'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_cpus': '1.5'}, 'cpus must be an integer'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_hugepages': '3Mi'}, 'must be a positive multiple of hugepage_size'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_hugepage_size': '4Mi'}, 'hugepage_size must be one of 2Mi, 1Gi'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_memory': 'lots'}, 'memory must be a Kubernetes quantity'),
    ({'dpdk_testpmd_vdevs': ['net null0'], }, 'vdevs entries look like'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_forward_mode': 'warp'}, 'forward_mode must be one of'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_eth_peers': ['02:00:00:00:00']}, 'eth_peers entries must be MAC'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_name': 'Test_PMD'}, 'name must be a DNS label'),
    ({'dpdk_testpmd_sriov_count': 1, 'dpdk_testpmd_sriov_resource': 'no-slash'}, 'sriov_resource must be an extended resource'),
    ({'dpdk_testpmd_vdevs': ['net_null0'], 'dpdk_testpmd_duration': 0}, 'duration must be between 1'),
])
def test_bad_parameters_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(AnsibleFilterError, match=message):
        manifest(**overrides)


def test_unknown_parameter_and_bad_podman_input_are_refused():
    with pytest.raises(tp.InvalidTestpmdInput, match='unknown testpmd pod parameter'):
        tp.pod_manifest({'vdevs': ['net_null0'], 'cpu': 2})
    pod = manifest(dpdk_testpmd_vdevs=['net_null0'])
    with pytest.raises(AnsibleFilterError, match='PCI addresses'):
        FILTERS['testpmd_podman_manifest'](pod, '/dev/hugepages', ['41:02.0'], ['45'])
    with pytest.raises(AnsibleFilterError, match='IOMMU group numbers'):
        FILTERS['testpmd_podman_manifest'](pod, '/dev/hugepages', ['0000:41:02.0'], ['../45'])
    with pytest.raises(AnsibleFilterError, match='absolute path'):
        FILTERS['testpmd_podman_manifest'](pod, 'hugepages')
    with pytest.raises(AnsibleFilterError, match='expects a Pod manifest'):
        FILTERS['testpmd_podman_manifest']({'kind': 'Deployment'})


def test_pci_env_name_matches_the_sriov_device_plugin():
    assert tp.pci_env_name('intel.com/intel_sriov_dpdk') == 'PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK'
    assert tp.pci_env_name('openshift.io/mlx-dpdk') == 'PCIDEVICE_OPENSHIFT_IO_MLX_DPDK'


def test_podman_cpuset_goes_to_the_launcher():
    pod = FILTERS['testpmd_podman_manifest'](manifest(dpdk_testpmd_vdevs=['net_null0']), '/dev/hugepages', [], [], '2-3')
    env = dict((item['name'], item['value']) for item in pod['spec']['containers'][0]['env'])
    assert env['TESTPMD_CPUS'] == '2-3'
    unpinned = FILTERS['testpmd_podman_manifest'](manifest(dpdk_testpmd_vdevs=['net_null0']), '/dev/hugepages', [], [], '')
    assert 'TESTPMD_CPUS' not in [item['name'] for item in unpinned['spec']['containers'][0]['env']]
    # one CPU is enough: the launcher runs the main and the forwarding lcore on it
    one = FILTERS['testpmd_podman_manifest'](manifest(dpdk_testpmd_vdevs=['net_null0'], dpdk_testpmd_cpus=1), '/dev/hugepages', [], [], '3')
    assert dict((item['name'], item['value']) for item in one['spec']['containers'][0]['env'])['TESTPMD_CPUS'] == '3'
    for bad in ('two', '1-', '-1'):
        with pytest.raises(AnsibleFilterError, match='cpuset must'):
            FILTERS['testpmd_podman_manifest'](manifest(dpdk_testpmd_vdevs=['net_null0']), '/dev/hugepages', [], [], bad)


def _pinned_nodes(pod):
    terms = pod['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
    assert len(terms) == 1 and list(terms[0]) == ['matchFields']
    return [(field['key'], field['operator'], field['values']) for field in terms[0]['matchFields']]


def test_pod_is_pinned_to_its_node_by_name_on_top_of_the_node_selector():
    pod = manifest(**SRIOV)
    # metadata.name, as the DaemonSet controller pins: the hostname label may differ from the node name
    assert _pinned_nodes(pod) == [('metadata.name', 'In', ['worker-1'])]
    assert pod['spec']['nodeSelector'] == {'kubernetes.io/hostname': 'worker-1'}
    assert pod['metadata']['name'] == 'testpmd-worker-1'


def test_node_name_comes_from_the_collection_setting_then_facts_then_the_inventory():
    assert _pinned_nodes(manifest(dpdk_testpmd_vdevs=['net_null0'])) == [('metadata.name', 'In', ['worker-1'])]
    facts = dict(dpdk_testpmd_vdevs=['net_null0'], ansible_facts={'nodename': 'node-a'})
    assert _pinned_nodes(manifest(**facts)) == [('metadata.name', 'In', ['node-a'])]
    both = dict(facts, nfv_dpdk_k8s_node_name='k8s-node-a')
    assert _pinned_nodes(manifest(**both)) == [('metadata.name', 'In', ['k8s-node-a'])]
    assert manifest(**both)['metadata']['name'] == 'testpmd-k8s-node-a'
    role_level = dict(both, dpdk_testpmd_k8s_node_name='other')
    assert _pinned_nodes(manifest(**role_level)) == [('metadata.name', 'In', ['other'])]


def test_two_hosts_of_one_batch_get_two_pods():
    first = manifest(dpdk_testpmd_vdevs=['net_null0'], inventory_hostname='worker-1.example.com')
    second = manifest(dpdk_testpmd_vdevs=['net_null0'], inventory_hostname='worker-2.example.com')
    assert first['metadata']['name'] == 'testpmd-worker-1-example-com'
    assert second['metadata']['name'] == 'testpmd-worker-2-example-com'
    assert _pinned_nodes(first) == [('metadata.name', 'In', ['worker-1.example.com'])]
    assert _pinned_nodes(second) == [('metadata.name', 'In', ['worker-2.example.com'])]


def test_an_explicit_name_still_wins_and_the_pod_stays_pinned():
    pod = manifest(dpdk_testpmd_vdevs=['net_null0'], dpdk_testpmd_name='tp-1')
    assert pod['metadata']['name'] == 'tp-1'
    assert _pinned_nodes(pod) == [('metadata.name', 'In', ['worker-1'])]


@pytest.mark.parametrize('node, name', [
    ('worker-1', 'testpmd-worker-1'),
    ('Worker_1.Lab', 'testpmd-worker-1-lab'),
    ('a--b..c', 'testpmd-a-b-c'),
    ('n' * 54, 'testpmd-' + 'n' * 54),  # 62 characters: fits
    ('n' * 55, 'testpmd-' + 'n' * 55),  # 63: fits
])
def test_pod_name_for_node_is_a_dns_label(node, name):
    assert tp.pod_name_for_node(node) == name


def test_long_node_names_are_cut_to_63_with_a_hash_that_keeps_them_apart():
    shared = 'rack-12-chassis-04-blade-09-nic-sriov-worker-node-with-a-long-name'
    first, second = tp.pod_name_for_node(shared + '-a'), tp.pod_name_for_node(shared + '-b')
    for name in (first, second):
        assert len(name) == 63 and tp._DNS_LABEL.match(name)  # pylint: disable=protected-access
        assert name.startswith('testpmd-rack-12-chassis')
    assert first != second
    # a cut that ends on '-' does not leave '--' before the hash
    assert '--' not in tp.pod_name_for_node('x' * 45 + '-' + 'y' * 30)
    assert tp.pod_name_for_node(shared + '-a') == first  # stable from run to run


@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_pinned_pods_of_two_hosts_are_valid(version):
    for host in ('worker-1.example.com', 'worker-2.example.com'):
        kubernetes_validate.validate(manifest(dpdk_testpmd_vdevs=['net_null0'], inventory_hostname=host), version, strict=True)


def test_podman_pods_are_not_pinned_and_keep_the_plain_name():
    pod = manifest(dpdk_testpmd_vdevs=['net_null0'], dpdk_testpmd_backend='podman')
    assert pod['metadata']['name'] == 'testpmd' and 'affinity' not in pod['spec']
    rewritten = FILTERS['testpmd_podman_manifest'](manifest(**SRIOV), '/dev/hugepages')
    assert 'affinity' not in rewritten['spec'] and 'nodeSelector' not in rewritten['spec']


@pytest.mark.parametrize('node', ['Worker_1', 'node name', '-worker', 'x' * 254])
def test_a_node_name_kubernetes_cannot_have_is_refused_with_the_field_named(node):
    with pytest.raises(AnsibleFilterError, match='node_name must be the Kubernetes name of the node'):
        manifest(dpdk_testpmd_vdevs=['net_null0'], dpdk_testpmd_k8s_node_name=node)


# One pod per NUMA node of a node plan (dpdk_testpmd_numa_pods): the parameters the role gives the filter.
NUMA_POD = dict(node_name='lab-node', name_suffix='-numa1', cpuset='3', numa_node=1, sriov_resource='nfv.dpdk/dpdk_numa1',
                sriov_count=1, hugepage_size='2Mi', hugepages='256Mi', forward_mode='mac', eth_peers=['02:00:00:00:41:00'],
                duration=20)


@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_numa_pod_is_a_valid_guaranteed_pod_with_one_cpu(version):
    pod = FILTERS['testpmd_pod_manifest'](NUMA_POD)
    kubernetes_validate.validate(pod, version, strict=True)
    resources = pod['spec']['containers'][0]['resources']
    # Guaranteed with an integer CPU count: the static CPU manager gives the container exclusive CPUs.
    assert resources['requests'] == resources['limits']
    assert resources['limits']['cpu'] == '1'
    assert resources['limits']['hugepages-2Mi'] == '256Mi' and resources['limits']['nfv.dpdk/dpdk_numa1'] == '1'
    assert pod['metadata']['name'] == 'testpmd-lab-node-numa1'
    assert _pinned_nodes(pod) == [('metadata.name', 'In', ['lab-node'])]
    env = dict((item['name'], item['value']) for item in pod['spec']['containers'][0]['env'])
    assert env['TESTPMD_NUMA_NODE'] == '1' and env['TESTPMD_HUGEPAGES_MB'] == '256'
    assert env['TESTPMD_PCI_ENV'] == 'PCIDEVICE_NFV_DPDK_DPDK_NUMA1'
    assert env['TESTPMD_ETH_PEERS'] == '02:00:00:00:41:00'


@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_numa_pod_for_podman_is_valid_and_names_its_vf_and_cpus(version):
    pod = FILTERS['testpmd_podman_manifest'](FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, node_name=None)),
                                             '/dev/hugepages', ['0000:81:10.0'], ['61'], '3')
    kubernetes_validate.validate(pod, version, strict=True)
    assert pod['metadata']['name'] == 'testpmd-numa1'
    env = dict((item['name'], item['value']) for item in pod['spec']['containers'][0]['env'])
    assert env['TESTPMD_CPUS'] == '3' and env['PCIDEVICE_NFV_DPDK_DPDK_NUMA1'] == '0000:81:10.0'
    assert env['TESTPMD_NUMA_NODE'] == '1' and env['TESTPMD_HUGEPAGES_MB'] == '256'
    assert 'TESTPMD_WAIT_CPUSET_S' not in env
    assert 'affinity' not in pod['spec']
    waiting = FILTERS['testpmd_podman_manifest'](FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, node_name=None)),
                                                 '/dev/hugepages', ['0000:81:10.0'], ['61'], '3', 120)
    assert dict((item['name'], item['value']) for item in waiting['spec']['containers'][0]['env'])['TESTPMD_WAIT_CPUSET_S'] == '120'


@pytest.mark.parametrize('version', KUBERNETES_VERSIONS)
def test_start_barrier_is_a_hostpath_directory_the_launcher_is_told_about(version):
    pod = FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, start_barrier_dir='/run/nfv-dpdk/testpmd-numa-start', start_timeout=180))
    kubernetes_validate.validate(pod, version, strict=True)
    container = pod['spec']['containers'][0]
    env = dict((item['name'], item['value']) for item in container['env'])
    assert env['TESTPMD_START_BARRIER'] == '/run/nfv-dpdk/start/go' and env['TESTPMD_START_TIMEOUT_S'] == '180'
    # The forward barrier (after EAL init) sits next to it, in the same mount.
    assert env['TESTPMD_FORWARD_BARRIER'] == '/run/nfv-dpdk/start/forward'
    assert {'name': 'start-barrier', 'mountPath': '/run/nfv-dpdk/start'} in container['volumeMounts']
    assert {'name': 'start-barrier', 'hostPath': {'path': '/run/nfv-dpdk/testpmd-numa-start', 'type': 'Directory'}} in pod['spec']['volumes']
    # The waits at both barriers count against the pod's deadline too.
    assert pod['spec']['activeDeadlineSeconds'] == 20 + 300 + 2 * 180
    # podman kube play gets the same hostPath volume and mount.
    podman = FILTERS['testpmd_podman_manifest'](FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, node_name=None,
                                                start_barrier_dir='/run/nfv-dpdk/testpmd-numa-start')),
                                                '/dev/hugepages', ['0000:81:10.0'], ['61'], '3', 120)
    kubernetes_validate.validate(podman, version, strict=True)
    assert {'name': 'start-barrier', 'hostPath': {'path': '/run/nfv-dpdk/testpmd-numa-start', 'type': 'Directory'}} in podman['spec']['volumes']
    assert {'name': 'start-barrier', 'mountPath': '/run/nfv-dpdk/start'} in podman['spec']['containers'][0]['volumeMounts']
    env = dict((item['name'], item['value']) for item in podman['spec']['containers'][0]['env'])
    assert env['TESTPMD_START_BARRIER'] == '/run/nfv-dpdk/start/go' and env['TESTPMD_START_TIMEOUT_S'] == '300'
    assert env['TESTPMD_FORWARD_BARRIER'] == '/run/nfv-dpdk/start/forward'


def test_without_a_start_barrier_there_is_no_barrier_volume_or_variable():
    pod = FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, start_barrier_dir=''))
    assert [volume['name'] for volume in pod['spec']['volumes']] == ['hugepages']
    assert not [item for item in pod['spec']['containers'][0]['env'] if item['name'].startswith('TESTPMD_START_') or item['name'] == 'TESTPMD_FORWARD_BARRIER']
    assert pod['spec']['activeDeadlineSeconds'] == 20 + 300


def test_numa_pods_of_one_node_get_two_names_also_when_the_node_name_is_cut():
    long_node = 'worker-' + 'x' * 70 + '.example.com'
    names = [FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, node_name=long_node, name_suffix='-numa%d' % node,
                                                  numa_node=node))['metadata']['name'] for node in (0, 1)]
    assert names[0] != names[1] and all(len(name) <= 63 and name.endswith('-numa%d' % node) for name, node in zip(names, (0, 1)))


def test_cpuset_sets_the_cpu_count():
    assert FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, cpuset='2-3,6'))['spec']['containers'][0]['resources']['limits']['cpu'] == '3'
    assert FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, cpuset='2-3', cpus=2))['spec']['containers'][0]['resources']['limits']['cpu'] == '2'


@pytest.mark.parametrize('overrides,message', [
    ({'cpuset': '3', 'cpus': 2}, r'cpus \(2\) must be the number of CPUs in cpuset 3 \(1\)'),
    ({'cpuset': 'three'}, 'cpuset must be a cpu-list'),
    ({'numa_node': -1}, 'numa_node must be between 0'),
    ({'numa_node': 'one'}, 'numa_node must be an integer'),
    ({'name_suffix': 'numa1'}, 'name_suffix must be empty or start with -'),
    ({'name_suffix': '-NUMA'}, 'name_suffix must be empty or start with -'),
    ({'start_barrier_dir': 'run/barrier'}, 'start_barrier_dir must be an absolute path'),
    ({'start_barrier_dir': '/run/a b'}, 'start_barrier_dir must be an absolute path'),
    ({'start_barrier_dir': '/run/../etc'}, 'start_barrier_dir must be an absolute path'),
    ({'start_barrier_dir': '/run/x', 'start_timeout': 0}, 'start_timeout must be between 1'),
])
def test_bad_numa_pod_parameters_are_refused_with_the_field_named(overrides, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS['testpmd_pod_manifest'](dict(NUMA_POD, **overrides))
