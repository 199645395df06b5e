# -*- coding: utf-8 -*-
"""The dpdk_testpmd role's podman backend over VFs (tasks/podman.yml), run for real on a fake node.

The node is a fake tree (NFV_DPDK_TEST_ROOT, tests/unit/fixtures/hosts/x710-2socket.yml) with two
VFs of the first X710 PF and a hugetlbfs mount; podman is a stand-in on PATH that records every
call (and its standard input) and answers as podman 4.3 does. One node_facts read checks every
precondition (VF drivers, IOMMU groups, the hugetlbfs mount), the Pod goes to `podman kube play`
on standard input, `podman wait` gives the exit code, the log comes from `podman logs`, and
`kube play --down` tears it down: four podman round trips for a run, none when a check fails.
tests/e2e/podman.yml runs the same tasks against the real podman with net_null vdevs.
"""

import json
import os
import sys

import yaml

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.pcihost import add_vfs
from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import ROOT, run_local_play

PF = '0000:af:00.0'
LOG = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'testpmd', 'pod_podman_io_null.log')

FAKE_PODMAN = r'''import json, os, sys
calls = os.path.join(os.environ['FAKE_PODMAN_DIR'], 'calls.jsonl')
argv = sys.argv[1:]
# podman_play starts with "play kube" and tears down with "kube play --down": one command, two spellings.
if argv[:2] == ['play', 'kube']:
    argv[:2] = ['kube', 'play']
stdin = sys.stdin.read() if argv[:2] == ['kube', 'play'] and argv[-1] == '-' else ''
with open(calls, 'a') as handle:
    handle.write(json.dumps({'argv': argv, 'stdin': stdin}) + '\n')
if argv == ['--version']:
    print('podman version 4.3.1')
elif argv[:2] == ['kube', 'play'] and '--down' in argv:
    print('Pods stopped:\n6a60\nPods removed:\n6a60')
elif argv[:2] == ['kube', 'play']:
    print('Pod:\n6a60\nContainer:\nd3e7\n')
elif argv[:1] == ['wait']:
    import time
    time.sleep(float(os.environ.get('FAKE_PODMAN_WAIT_S', '0')))
    print(os.environ.get('FAKE_PODMAN_EXIT', '0'))
elif argv[:1] == ['logs']:
    sys.stdout.write(open(os.environ['FAKE_PODMAN_LOG']).read())
else:
    sys.stderr.write('fake podman: unexpected call %s' % argv)
    sys.exit(125)
'''


def fake_node(root, vf_driver='vfio-pci', hugetlbfs=True):
    host = FakeHost.from_fixture(root, 'x710-2socket')
    vfs = add_vfs(host, PF, 2, driver=vf_driver, iommu_group_base=80)
    host.mounts(*(['hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0'] if hugetlbfs else []))
    return host, vfs


def run_podman_backend(tmp_path, host, vfs, fake_env=None, **variables):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'podman').write_text('#!%s\n%s' % (sys.executable, FAKE_PODMAN))
    (bindir / 'podman').chmod(0o755)
    env = {'NFV_DPDK_TEST_ROOT': host.root, 'FAKE_PODMAN_DIR': str(tmp_path), 'FAKE_PODMAN_LOG': LOG,
           'PATH': '%s%s%s' % (bindir, os.pathsep, os.environ.get('PATH', ''))}
    env.update(fake_env or {})
    hostvars = dict({
        'dpdk_testpmd_backend': 'podman', 'dpdk_testpmd_build_image': False, 'dpdk_testpmd_name': 'testpmd-e2e',
        'dpdk_testpmd_sriov_count': 2, 'dpdk_testpmd_podman_pci_devices': vfs,
        'dpdk_testpmd_podman_executable': str(bindir / 'podman'),
        'dpdk_testpmd_forward_mode': 'io', 'dpdk_testpmd_duration': 10, 'dpdk_testpmd_hugepages': '512Mi',
        'dpdk_testpmd_fail_on_verdict': False,
    }, **variables)
    play = {'name': 'testpmd podman backend', 'hosts': 'all', 'gather_facts': False, 'environment': env,
            'tasks': [{'name': 'Prove the node', 'ansible.builtin.include_role': {'name': 'nfv.dpdk.dpdk_testpmd'}}]}
    before = host.snapshot()
    report, rc = run_local_play(tmp_path, play, {'node-1': hostvars})
    assert host.snapshot() == before, 'the role changed the fake node'
    ran = {}
    for task in report['plays'][0]['tasks']:
        for result in task['hosts'].values():
            ran[task['task']['name'].split(' : ', 1)[-1]] = result
    calls_file = tmp_path / 'calls.jsonl'
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()] if calls_file.exists() else []
    return ran, rc, [call for call in calls if call['argv'] != ['--version']]


CHECK = 'Check that every VF is bound to vfio-pci with an IOMMU group and that the hugepages directory is on hugetlbfs'


def test_a_run_reads_the_node_once_plays_the_pod_from_stdin_waits_and_tears_it_down(tmp_path):
    host, vfs = fake_node(str(tmp_path / 'node'))
    ran, rc, calls = run_podman_backend(tmp_path, host, vfs)
    assert rc == 0, [(name, result.get('msg')) for name, result in ran.items() if result.get('failed')]
    assert ran['Read the VFs given to the pod and the hugetlbfs mounts'].get('failed') is not True
    assert [call['argv'][:2] for call in calls] == [['kube', 'play'], ['wait', 'testpmd-e2e-testpmd'],
                                                    ['logs', '--timestamps'], ['kube', 'play']]
    play, wait, logs, down = calls
    assert play['argv'][-1] == '-' and '--network=none' in play['argv'] and '--down' not in play['argv']
    assert down['argv'][-2:] == ['--down', '-'] and down['stdin'] == play['stdin']
    pod = yaml.safe_load(play['stdin'])
    container = pod['spec']['containers'][0]
    # Each VF's IOMMU group (80, 81 on the fake node) as a device, the VFs in PCIDEVICE, the node's hugetlbfs.
    assert container['image'] == 'localhost/nfv-dpdk-testpmd:latest'
    assert '/dev/vfio/80' in play['stdin'] and '/dev/vfio/81' in play['stdin'] and '/dev/vfio/vfio' in play['stdin']
    assert ','.join(vfs) in play['stdin']
    assert any(volume.get('hostPath', {}).get('path') == '/dev/hugepages' for volume in pod['spec']['volumes'])
    assert 'Remove the pod by name, whatever its state' not in ran
    facts = ran['Keep the log and the exit code']['ansible_facts']
    assert int(facts['dpdk_testpmd_exit_code']) == 0
    assert 'Accumulated forward statistics' in facts['dpdk_testpmd_log']


def test_a_vf_on_its_kernel_driver_stops_the_role_before_podman_runs(tmp_path):
    host, vfs = fake_node(str(tmp_path / 'node'), vf_driver='iavf')
    ran, rc, calls = run_podman_backend(tmp_path, host, vfs)
    assert rc != 0
    message = ran[CHECK]['msg']
    for address in vfs:
        assert '%s must be a PCI device bound to vfio-pci with an IOMMU group (driver: iavf' % address in ' '.join(message)
    assert calls == []


def test_a_hugepages_directory_off_hugetlbfs_stops_the_role_before_podman_runs(tmp_path):
    host, vfs = fake_node(str(tmp_path / 'node'), hugetlbfs=False)
    ran, rc, calls = run_podman_backend(tmp_path, host, vfs)
    assert rc != 0
    assert ran[CHECK]['msg'] == ['/dev/hugepages is not on a hugetlbfs mount (hugetlbfs mounts: none); '
                                 'mount it first (nfv.dpdk.hugepages mounts).']
    assert calls == []


def test_a_pod_that_does_not_finish_in_time_fails_the_role_and_is_still_torn_down(tmp_path):
    # podman wait killed by timeout (rc 124): the role fails with the pod's log and still tears it down.
    host, vfs = fake_node(str(tmp_path / 'node'))
    ran, rc, calls = run_podman_backend(tmp_path, host, vfs, fake_env={'FAKE_PODMAN_WAIT_S': '5'},
                                        dpdk_testpmd_duration=1, dpdk_testpmd_startup_timeout=0)
    assert rc != 0
    assert [call['argv'][:2] for call in calls][-1] == ['kube', 'play']
    assert '--down' in calls[-1]['argv']
    failure = ran["Fail with the pod's log"]
    assert failure.get('failed') and 'did not run to completion (time allowed: 1 s, timed out)' in failure['msg'][0]
    # kube play --down worked: the by-name removal (its rescue) did not run.
    assert 'Remove the pod by name, whatever its state' not in ran
