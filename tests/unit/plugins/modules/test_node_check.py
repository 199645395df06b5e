# -*- coding: utf-8 -*-
"""nfv.dpdk.node_check on the fake hosts of tests/unit/fixtures/hosts: each result is exactly what the module
itself returns in check mode, the VFs sriov_vfs would create are planned for driver_bind, bad options and
failing plans name the resource and the field, and nothing on the node changes."""

import pytest
import yaml

from ansible_collections.nfv.dpdk.plugins.module_utils.node_check import NODE_MODULE_NAMES, CheckModeModule, NodeCheck, PlanEnded
from ansible_collections.nfv.dpdk.plugins.modules import cpu_isolation, driver_bind, hugepages, iommu_grub, node_check, sriov_vfs
from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import FakeKernelPci
from ansible_collections.nfv.dpdk.tests.unit.playbooks.test_audit import prepared_node

PF = '0000:af:00.0'
GRUB = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="%s"\n'
MODULES = {'iommu_grub': iommu_grub, 'cpu_isolation': cpu_isolation, 'hugepages': hugepages,
           'sriov_vfs': sriov_vfs, 'driver_bind': driver_bind}
# Every resource, as the dpdk_node role gives them on a fresh X710 node.
ALL = {
    'iommu_grub': {'vendor': 'intel'},
    'cpu_isolation': {'reserved_per_node': 2},
    'hugepages': {'pools': [{'size': '1G', 'count': 4, 'node': 1}], 'default_size': '1G', 'boot': True, 'runtime': False},
    'sriov_vfs': {'pfs': [{'device': PF, 'num_vfs': 2, 'vfs': [{'index': 1, 'mac': '02:00:00:00:af:01'}]}],
                  'persist': False},
    'driver_bind': [{'vfs_of': [PF], 'driver': 'vfio-pci', 'iommu_planned': True},
                    {'devices': ['0000:af:00.1'], 'driver': 'vfio-pci', 'iommu_planned': True}],
}


def vf_link(kernel):
    """The PF's VFs as the prepared node has them in ``ip link``: the MAC of VF 1 set as ALL asks."""
    kernel.vfinfo[PF] = [{'vf': index, 'mac': mac, 'vlan': 0, 'qos': 0, 'spoofchk': True, 'trust': False,
                          'link_state': 'auto', 'max_tx': 0, 'min_tx': 0}
                         for index, mac in enumerate(['02:00:00:00:af:00', '02:00:00:00:af:01'])]


def _attach(host, monkeypatch, commands):
    monkeypatch.setenv('NFV_DPDK_TEST_ROOT', str(host.root))
    host.mkdir('/etc/systemd/system')
    kernel = FakeKernelPci(host).install(monkeypatch, commands)
    commands.provide('update-grub')
    return host, kernel


@pytest.fixture
def fresh(tmp_path, monkeypatch, commands):
    """The 2-socket X710 node before the role ran: no IOMMU, no VFs, no 1G pool on the NICs' node."""
    host = FakeHost.from_fixture(str(tmp_path / 'host'), 'x710-2socket')
    host.file('/etc/default/grub', GRUB % '')
    host.file('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n')
    host.cmdline('BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 ro quiet')
    return _attach(host, monkeypatch, commands)[0]


@pytest.fixture
def prepared(tmp_path, monkeypatch, commands):
    """The same node as site.yml leaves it (test_audit.prepared_node): IOMMU on, 4 1G pages on node 1, 2 VFs."""
    host, kernel = _attach(prepared_node(str(tmp_path / 'host')), monkeypatch, commands)
    vf_link(kernel)
    return host


def modules_one_by_one(run_module, commands, args, diff=False):
    """Each module run by itself in check mode, in node_check's order, and the commands each ran."""
    results, calls = {}, []
    for name in ('iommu_grub', 'cpu_isolation', 'hugepages', 'sriov_vfs'):
        if name in args:
            del commands.calls[:]
            results[name] = run_module(MODULES[name], args[name], check_mode=True, diff=diff)
            calls.extend(commands.calls)
    for entry in args.get('driver_bind', []):
        if 'sriov_vfs' in args and 'sriov_plan' not in entry:
            entry = dict(entry, sriov_plan=results['sriov_vfs']['pfs'])
        del commands.calls[:]
        results.setdefault('driver_bind', []).append(run_module(driver_bind, entry, check_mode=True, diff=diff))
        calls.extend(commands.calls)
    return results, calls


@pytest.mark.parametrize('diff', [False, True], ids=['no-diff', 'diff'])
@pytest.mark.parametrize('check_mode', [False, True], ids=['run', 'check'])
def test_each_result_is_the_modules_own_check_mode_result(fresh, run_module, commands, check_mode, diff):
    before = fresh.snapshot()
    del commands.calls[:]
    result = run_module(node_check, ALL, check_mode=check_mode, diff=diff)
    assert not result.failed, result['msg']
    assert fresh.snapshot() == before
    node_check_calls = list(commands.calls)
    expected, expected_calls = modules_one_by_one(run_module, commands, ALL, diff=diff)
    assert fresh.snapshot() == before
    assert sorted(result['plans']) == sorted(ALL)
    for name in ALL:
        assert result['plans'][name] == expected[name], name
    # The same checks: the very commands the modules ran, in the same order (all of them read-only).
    assert node_check_calls == expected_calls
    assert result['changed'] is False
    assert result['would_change'] == ['iommu_grub', 'cpu_isolation', 'hugepages', 'sriov_vfs', 'driver_bind[0]',
                                      'driver_bind[1]']
    assert result['reboot_required'] == ['iommu_grub', 'cpu_isolation', 'hugepages']
    assert result['msg'] == ('planned iommu_grub, cpu_isolation, hugepages, sriov_vfs, driver_bind[0], driver_bind[1]; '
                             'would change: iommu_grub, cpu_isolation, hugepages, sriov_vfs, driver_bind[0], '
                             'driver_bind[1]; a reboot is required for: iommu_grub, cpu_isolation, hugepages')
    assert ('diff' in result['plans']['hugepages']) is diff


def test_a_prepared_node_has_nothing_to_change(prepared, run_module, commands):
    args = {'iommu_grub': {'vendor': 'intel'}, 'hugepages': ALL['hugepages'], 'sriov_vfs': ALL['sriov_vfs']}
    before = prepared.snapshot()
    result = run_module(node_check, args)
    assert not result.failed, result['msg']
    assert prepared.snapshot() == before
    expected, _calls = modules_one_by_one(run_module, commands, args)
    assert result['plans'] == expected
    assert result['would_change'] == [] and result['reboot_required'] == []
    assert result['msg'] == 'planned iommu_grub, hugepages, sriov_vfs; nothing would change; no reboot is required'


def test_a_pool_drifted_by_hand_is_the_one_that_would_change(tmp_path, monkeypatch, commands, run_module):
    node, kernel = _attach(prepared_node(str(tmp_path / 'host'), node1_pages=2), monkeypatch, commands)
    vf_link(kernel)
    args = {'hugepages': dict(ALL['hugepages'], runtime=True), 'sriov_vfs': ALL['sriov_vfs']}
    before = node.snapshot()
    result = run_module(node_check, args)
    assert node.snapshot() == before
    assert result['would_change'] == ['hugepages'] and result['reboot_required'] == []
    pool = result['plans']['hugepages']['pools'][0]
    assert (pool['before']['persistent'], pool['after']['persistent']) == (2, 4)


def test_the_vfs_sriov_vfs_would_create_are_bound_in_the_plan(fresh, run_module):
    args = {'sriov_vfs': ALL['sriov_vfs'], 'driver_bind': [{'vfs_of': [PF], 'driver': 'vfio-pci'}]}
    before = fresh.snapshot()
    result = run_module(node_check, args)
    assert not result.failed, result['msg']
    assert fresh.snapshot() == before
    planned = [vf for pf in result['plans']['sriov_vfs']['pfs'] for vf in pf['vfs']]
    assert [vf['planned'] for vf in planned] == [True, True]
    assert all(vf['address'] for vf in planned)  # from the PF's SR-IOV capability in its config space
    bind = result['plans']['driver_bind'][0]
    assert [(device['address'], device['planned'], device['physfn'], device['changed']) for device in bind['devices']] == [
        (vf['address'], True, PF, True) for vf in planned]
    assert bind['changed'] is True


def test_an_entry_with_its_own_sriov_plan_keeps_it(fresh, run_module, commands):
    args = {'sriov_vfs': ALL['sriov_vfs'], 'driver_bind': [{'vfs_of': [PF], 'sriov_plan': []}]}
    result = run_module(node_check, args)
    expected, _calls = modules_one_by_one(run_module, commands, args)
    assert result['plans']['driver_bind'] == expected['driver_bind']
    # Without the plan the PF has no VF to bind: not the handed-over VFs.
    assert not any(device['planned'] for device in result['plans']['driver_bind'][0].get('devices', []))


@pytest.mark.parametrize('args, resource, parts', [
    ({'cpu_isolation': {'state': 'maybe', 'reserved_per_node': 2}}, 'cpu_isolation',
     ['cpu_isolation: value of state must be one of: present, absent, got: maybe']),
    ({'cpu_isolation': {'isolated_cpus': '2-7', 'isolated_count': 4}}, 'cpu_isolation',
     ['cpu_isolation: parameters are mutually exclusive: isolated_cpus|isolated_count']),
    ({'cpu_isolation': {'state': 'present'}}, 'cpu_isolation',
     ['cpu_isolation: state is present but any of the following are missing: isolated_cpus, reserved_cpus, '
      'isolated_count, reserved_per_node']),
    ({'hugepages': {'pools': [{'count': 4}]}}, 'hugepages',
     ['hugepages: missing required arguments: size found in pools']),
    ({'hugepages': {'pool': []}}, 'hugepages',
     ['hugepages: Unsupported parameters for nfv.dpdk.hugepages: pool. Supported parameters include: boot, ']),
    ({'iommu_grub': {'vendor': 'arm'}}, 'iommu_grub', ['iommu_grub: value of vendor must be one of: auto, intel, amd, got: arm']),
    ({'sriov_vfs': {'persist': False}}, 'sriov_vfs', ['sriov_vfs: missing required arguments: pfs']),
    ({'driver_bind': [{'devices': ['0000:af:00.1']}, {'driver': 'vfio-pci'}]}, 'driver_bind[1]',
     ['driver_bind[1]: one of the following is required: devices, vfs_of, match']),
    ({'driver_bind': [{'devices': ['0000:af:00.1'], 'driver': 'dpdk'}]}, 'driver_bind[0]',
     ['driver_bind[0]: value of driver must be one of: ']),
    # (ansible-core 2.16 names the type <class 'str'>, 2.19 str.)
    ({'hugepages': {'pools': 'x'}}, 'hugepages',
     ["hugepages: Elements value for option 'pools' is of type ", 'we were unable to convert to dict']),
    # Every resource's problems at once, before anything is planned.
    ({'iommu_grub': {'vendor': 'intel'}, 'cpu_isolation': {'isolated_cpus': 'x', 'isolated_count': 2},
      'driver_bind': [{}]}, 'cpu_isolation',
     ['2 problem(s) in the options, nothing was planned: cpu_isolation: parameters are mutually exclusive',
      '; driver_bind[0]: one of the following is required: devices, vfs_of, match']),
])
def test_bad_options_name_the_resource_and_field_and_plan_nothing(fresh, run_module, commands, args, resource, parts):
    before = fresh.snapshot()
    del commands.calls[:]
    result = run_module(node_check, args)
    assert result.failed
    for part in parts:
        assert part in result['msg'], result['msg']
    assert result['resource'] == resource and result['plans'] == {}
    assert commands.calls == []  # nothing was planned, so nothing was asked of the node
    assert fresh.snapshot() == before


@pytest.mark.parametrize('args, resource, message', [
    ({'iommu_grub': {'vendor': 'intel'}, 'cpu_isolation': {'isolated_cpus': '2-7,99'}, 'hugepages': ALL['hugepages']},
     'cpu_isolation', 'cpu_isolation: isolated_cpus: CPUs 99 do not exist on this host'),
    ({'hugepages': {'pools': [{'size': '3M', 'count': 4}]}}, 'hugepages',
     'hugepages: pools[0].size: 3M is not a hugepage size of this kernel'),
    # A required executable missing on the node fails that plan as it fails the module (get_bin_path).
    ({'hugepages': {'mounts': [{'path': '/dev/hugepages-1G', 'size': '1G'}]}}, 'hugepages',
     'hugepages: Failed to find required executable "mount"'),
    ({'sriov_vfs': {'pfs': [{'device': PF, 'num_vfs': 65}]}, 'driver_bind': [{'vfs_of': [PF]}]}, 'sriov_vfs',
     'sriov_vfs: 1 problem(s) in the input, nothing was changed: pfs[0].num_vfs: 65 is out of range for 0000:af:00.0'),
    ({'sriov_vfs': ALL['sriov_vfs'], 'driver_bind': [{'vfs_of': [PF]}, {'devices': ['0000:af:00.7']}]}, 'driver_bind[1]',
     "driver_bind[1]: 1 problem(s), nothing was changed: devices[0]: '0000:af:00.7': no such PCI device on this host"),
])
def test_a_failing_plan_names_the_resource_and_field(fresh, run_module, args, resource, message):
    before = fresh.snapshot()
    result = run_module(node_check, args)
    assert result.failed and result['resource'] == resource
    assert result['msg'].startswith(message), result['msg']
    assert fresh.snapshot() == before
    # The failing plan's own result, exactly as the module fails alone, after the results planned before it.
    if resource.startswith('driver_bind'):
        index = int(resource[len('driver_bind['):-1])
        failed = result['plans']['driver_bind'][index]
        assert len(result['plans']['driver_bind']) == index + 1
        alone = run_module(driver_bind, dict(args['driver_bind'][index], sriov_plan=result['plans']['sriov_vfs']['pfs']),
                           check_mode=True)
    else:
        failed = result['plans'][resource]
        alone = run_module(MODULES[resource], args[resource], check_mode=True)
    assert alone.failed and failed == alone
    assert result['msg'] == '%s: %s' % (resource, alone['msg'])
    order = [name for name in ('iommu_grub', 'cpu_isolation', 'hugepages', 'sriov_vfs', 'driver_bind') if name in args]
    planned = order[:order.index(resource.split('[')[0]) + 1]
    assert list(result['plans']) == planned
    assert fresh.snapshot() == before


def test_a_module_that_would_write_fails_its_plan():
    # Check mode never writes; should a module's code try, the plan fails instead of writing.
    adapter = CheckModeModule(type('Host', (), {'_diff': False})(), 'hugepages', {})
    for name in ('atomic_move', 'backup_local', 'preserved_copy'):
        with pytest.raises(PlanEnded) as ended:
            getattr(adapter, name)('/tmp/x', '/etc/x')
        assert ended.value.failed
        assert ended.value.result['msg'] == ('hugepages called %s in check mode: node_check never changes the node '
                                             '(a bug in the module)' % name)


def test_warnings_are_the_modules_and_the_tasks(fresh, run_module):
    # Split cores are accepted with a warning: in cpu_isolation's result and, named, in the task's warnings.
    args = {'cpu_isolation': {'isolated_cpus': '2-7', 'reserved_cpus': '0-1,8-14', 'allow_split_cores': True}}
    result = run_module(node_check, args)
    alone = run_module(cpu_isolation, args['cpu_isolation'], check_mode=True)
    assert alone['warnings'] and result['plans']['cpu_isolation'] == alone
    assert result['warnings'] == ['cpu_isolation: %s' % warning for warning in alone['warnings']]


def test_the_examples_pass_each_modules_own_argument_spec():
    tasks = [task['nfv.dpdk.node_check'] for task in yaml.safe_load(node_check.EXAMPLES) if 'nfv.dpdk.node_check' in task]
    assert len(tasks) == 2
    for args in tasks:
        checker = NodeCheck(type('Host', (), {'params': dict(dict.fromkeys(NODE_MODULE_NAMES), **args)})())
        checker.validate(checker.requests())  # raises NodeCheckError naming the resource and the field
