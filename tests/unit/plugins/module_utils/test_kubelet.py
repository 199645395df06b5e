# -*- coding: utf-8 -*-
"""module_utils/kubelet.py: quantities, merge, flags, validation, checkpoints."""

import json
from fractions import Fraction

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import (
    Machine, Quantity, QuantityError, cpu_policy_of, cpu_state_stale, flags_to_config, format_quantity, memory_policy_of,
    memory_state_stale, merge_config, node_allocatable_reservation, parse_env_file, parse_flag_words, parse_go_bool, validate,
)

MACHINE = Machine('0-3', [0, 1], sockets=2, mem_total_bytes=16 * 1024 ** 3,
                  node_mem_bytes={0: 8 * 1024 ** 3, 1: 8 * 1024 ** 3})


# -- quantities ------------------------------------------------------------------------

@pytest.mark.parametrize('text,value', [
    ('500m', Fraction(1, 2)),
    ('1', 1),
    (2, 2),
    ('1.5', Fraction(3, 2)),
    ('1Ki', 1024),
    ('512Mi', 512 * 1024 ** 2),
    ('1Gi', 1024 ** 3),
    ('1G', 10 ** 9),
    ('1k', 1000),
    ('100M', 10 ** 8),
    ('1e3', 1000),
    ('1E-3', Fraction(1, 1000)),
    ('.5', Fraction(1, 2)),
    ('-1', -1),
    ('+2Mi', 2 * 1024 ** 2),
    ('100n', Fraction(100, 10 ** 9)),
    ('1Ti', 1024 ** 4),
])
def test_quantity_parse(text, value):
    assert Quantity.parse(text).value == value


@pytest.mark.parametrize('text', ['', '1 GB', 'lots', '1KB', '1gi', '1Gi ', 'Gi', '1.2.3', True, '--1', '1ki'])
def test_quantity_rejects(text):
    if text == '1Gi ':
        assert Quantity.parse(text).value == 1024 ** 3  # surrounding blanks are trimmed
        return
    with pytest.raises(QuantityError) as error:
        Quantity.parse(text)
    assert 'quantities must match the regular expression' in str(error.value)


@pytest.mark.parametrize('text,canonical', [
    ('1024Mi', '1Gi'), ('1124Mi', '1124Mi'), ('1000m', '1'), ('1500m', '1500m'), ('1G', '1G'), ('1000M', '1G'),
    ('0.5Gi', '512Mi'), ('100Mi', '100Mi'), ('0', '0'), ('1e3', '1k'), ('1536', '1536'),
])
def test_quantity_string(text, canonical):
    assert str(Quantity.parse(text)) == canonical


def test_quantity_sum_takes_the_format_of_the_first_non_zero_addend():
    total = Quantity(0) + Quantity.parse('1Gi') + Quantity.parse('100Mi')
    assert str(total) == '1124Mi'
    assert str(Quantity(0) + Quantity.parse('1G') + Quantity.parse('500M')) == '1500M'
    assert Quantity.parse('1Gi') == Quantity.parse('1073741824')
    assert Quantity.parse('1500m').bytes() == 2
    assert format_quantity(Fraction(1, 3 * 10 ** 9)) == '1n'


def test_go_bool():
    assert parse_go_bool('true') is True and parse_go_bool('T') is True and parse_go_bool(True) is True
    assert parse_go_bool('0') is False and parse_go_bool(False) is False
    assert parse_go_bool('yes') is None and parse_go_bool('on') is None


# -- merge -----------------------------------------------------------------------------

def test_merge_keeps_and_merges():
    current = {'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration', 'x': {'y': 1},
               'kubeReserved': {'memory': '1Gi', 'pid': '100'}, 'cpuManagerPolicyOptions': {'full-pcpus-only': 'true'}}
    merged = merge_config(current, {'kube_reserved': {'cpu': 1, 'pid': None}, 'cpu_manager_policy_options': {'strict-cpu-reservation': True},
                                    'cpu_manager_policy': 'static'})
    assert merged['x'] == {'y': 1}
    assert merged['kubeReserved'] == {'memory': '1Gi', 'cpu': '1'}
    assert merged['cpuManagerPolicyOptions'] == {'strict-cpu-reservation': 'true'}
    assert current['kubeReserved'] == {'memory': '1Gi', 'pid': '100'}  # not modified in place


def test_merge_empty_file_gets_api_version_and_kind():
    assert merge_config({}, {'topology_manager_scope': 'pod'}) == {
        'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration', 'topologyManagerScope': 'pod'}


def test_merge_removes_emptied_maps():
    merged = merge_config({'kubeReserved': {'cpu': '1'}, 'reservedMemory': [{'numaNode': 0, 'limits': {'memory': '1Gi'}}]},
                          {'kube_reserved': {'cpu': None}, 'reserved_memory': []})
    assert 'kubeReserved' not in merged and 'reservedMemory' not in merged


def test_policy_defaults():
    assert cpu_policy_of({}) == 'none' and memory_policy_of({}) == 'None'
    assert cpu_policy_of({'cpuManagerPolicy': 'static'}) == 'static'


# -- flags -----------------------------------------------------------------------------

def test_env_file_flags():
    flags = parse_env_file('# comment\nKUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///x --cpu-manager-policy static '
                           '--reserved-memory=0:memory=1Gi;1:memory=2Gi --eviction-hard=memory.available<200Mi,nodefs.available<5%"\n'
                           'OTHER=--cpu-manager-policy=none\n', 'f.env')
    config = flags_to_config(flags)
    assert config['cpuManagerPolicy'][0] == 'static'
    assert config['reservedMemory'][0] == [{'numaNode': 0, 'limits': {'memory': '1Gi'}}, {'numaNode': 1, 'limits': {'memory': '2Gi'}}]
    assert config['evictionHard'][0] == {'memory.available': '200Mi', 'nodefs.available': '5%'}
    assert str(config['cpuManagerPolicy'][1]) == '--cpu-manager-policy=static (f.env)'


def test_rancher_style_flags_and_feature_gates():
    config = flags_to_config(parse_flag_words(['feature-gates=CPUManagerPolicyAlphaOptions=true,Foo=false', 'max-pods=200'], 'k3s'))
    assert config == {'featureGates': ({'CPUManagerPolicyAlphaOptions': True, 'Foo': False}, config['featureGates'][1])}


def test_unparsable_flag():
    with pytest.raises(ValueError) as error:
        flags_to_config(parse_flag_words(['--kube-reserved=cpu'], 'x'))
    assert "kubelet flag --kube-reserved=cpu (x) cannot be parsed" in str(error.value)


# -- validation --------------------------------------------------------------------------

def messages(config, machine=MACHINE):
    return [str(error) for error in validate(config, machine)]


def test_valid_configurations():
    assert messages({}) == []
    assert messages({'cpuManagerPolicy': 'static', 'reservedSystemCPUs': '0', 'topologyManagerPolicy': 'single-numa-node',
                     'topologyManagerScope': 'pod', 'cpuManagerPolicyOptions': {'full-pcpus-only': 'true'}}) == []
    assert messages({'cpuManagerPolicy': 'static', 'systemReserved': {'cpu': '100m'}}) == []


def test_reserved_system_cpus_replace_the_cpu_reservation():
    reservation = node_allocatable_reservation({'reservedSystemCPUs': '0-1', 'kubeReserved': {'cpu': '3', 'memory': '1Gi'}}, MACHINE, [])
    assert reservation['cpu'] == Quantity(2)
    assert str(reservation['memory']) == '1124Mi'


def test_unknown_cpu_policy():
    assert any('unknown policy: "dynamic"' in m for m in messages({'cpuManagerPolicy': 'dynamic'}))


def test_invalid_topology_policy_and_scope():
    found = messages({'topologyManagerPolicy': 'numa', 'topologyManagerScope': 'node'})
    assert ('invalid configuration: topologyManagerPolicy (--topology-manager-policy) "numa" must be one of: '
            '["none" "best-effort" "restricted" "single-numa-node"]') in found[0]
    assert 'invalid configuration: topologyManagerScope (--topology-manager-scope) "node" must be one of: "container", or "pod"' in found[1]


def test_evicton_percentage_without_memory_size():
    machine = Machine('0-1', [0])
    found = messages({'memoryManagerPolicy': 'Static', 'evictionHard': {'memory.available': '5%'}}, machine)
    assert 'machine memory is unknown' in found[0]


def test_memory_gate_off():
    found = messages({'memoryManagerPolicy': 'Static', 'featureGates': {'MemoryManager': False}})
    assert 'Static has no effect with featureGates MemoryManager: false' in found[0]


def test_reserved_memory_larger_than_the_node():
    found = messages({'memoryManagerPolicy': 'Static', 'kubeReserved': {'memory': '9Gi'}, 'evictionHard': {},
                      'reservedMemory': [{'numaNode': 0, 'limits': {'memory': '9Gi'}}]})
    assert 'reserves 9Gi on NUMA node 0, which has only 8Gi' in found[0]


# -- checkpoints ---------------------------------------------------------------------------

def test_cpu_state():
    assert cpu_state_stale({'policyName': 'none'}, 'none') is None
    assert cpu_state_stale({'policyName': 'none'}, 'static') == 'configured policy "static" differs from state checkpoint policy "none"'
    assert cpu_state_stale(None, 'none') == 'the checkpoint is not valid JSON'
    assert cpu_state_stale({'policyName': 'static', 'defaultCpuSet': '0-3'}, 'static', '0') is None
    assert cpu_state_stale({'policyName': 'static', 'defaultCpuSet': '1-3'}, 'static', '0') == \
        'not all reserved cpus: "0" are present in defaultCpuSet: "1-3"'
    assert cpu_state_stale({'policyName': 'static', 'defaultCpuSet': '0-3'}, 'static', '0', strict=True) == \
        'some of strictly reserved cpus: "0" are present in defaultCpuSet: "0-3"'
    assert cpu_state_stale({'policyName': 'static', 'defaultCpuSet': ''}, 'static', '0') is None


def test_memory_state():
    state = {'policyName': 'Static', 'machineState': {'0': {'memoryMap': {'memory': {'systemReserved': 1024 ** 3}}},
                                                      '1': {'memoryMap': {'memory': {'systemReserved': 0}}}}}
    assert memory_state_stale(state, 'Static', [{'numaNode': 0, 'limits': {'memory': '1Gi'}}]) is None
    assert 'was 1073741824 bytes and is now 2147483648 bytes' in memory_state_stale(state, 'Static', [{'numaNode': 0, 'limits': {'memory': '2Gi'}}])
    assert memory_state_stale(json.loads('{"policyName": "None"}'), 'Static') == \
        'configured policy "Static" differs from state checkpoint policy "None"'
