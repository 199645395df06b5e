# -*- coding: utf-8 -*-
"""bench/testpmd_pod_vs_host.py --lab --plan without a lab node: the per-NUMA pods and host environments built from a
node plan's proof_pods, the node plan read through ansible's JSON callback, a VF's MAC from ip -j link, the sum of a run."""

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.dont_write_bytecode = True
if os.path.join(ROOT, 'bench') not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, 'bench'))
_spec = importlib.util.spec_from_file_location('testpmd_pod_vs_host', os.path.join(ROOT, 'bench', 'testpmd_pod_vs_host.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

# What nfv.dpdk.node_plan returns on the lab node with lab/site-vars-plan.yml (its MACs derived from the machine-id).
PROOF_PODS = [
    {'numa_node': 0, 'cpus': '1', 'pci_devices': ['0000:41:10.0'], 'macs': ['02:5e:1c:9a:03:7f'], 'resource': 'nfv.dpdk/dpdk_numa0',
     'hugepage_size': '2M', 'hugepages': '512Mi'},
    {'numa_node': 1, 'cpus': '3', 'pci_devices': ['0000:81:10.0'], 'macs': ['02:aa:bb:cc:dd:ee'], 'resource': 'nfv.dpdk/dpdk_numa1',
     'hugepage_size': '2M', 'hugepages': '512Mi'},
]
# The MACs lab/site-vars.yml gave the VFs: what the node really has.
REAL_MACS = {'0000:41:10.0': '02:00:00:00:41:00', '0000:81:10.0': '02:00:00:00:81:00'}
GROUPS = {'0000:41:10.0': '17', '0000:81:10.0': '23'}


def env_of(podman_pod):
    return dict((item['name'], item.get('value', '')) for item in podman_pod['spec']['containers'][0]['env'])


def test_each_pod_gets_its_numa_nodes_cpu_vf_hugepages_and_sends_to_the_next_pods_real_mac():
    pods = bench.plan_pods(PROOF_PODS, REAL_MACS, 7, GROUPS)
    assert [pod['params']['name'] for pod in pods] == ['nfv-bench-testpmd-numa0', 'nfv-bench-testpmd-numa1']
    assert [pod['container'] for pod in pods] == ['nfv-bench-testpmd-numa0-testpmd', 'nfv-bench-testpmd-numa1-testpmd']
    first, second = (env_of(pod['podman_manifest']) for pod in pods)
    assert (first['TESTPMD_CPUS'], second['TESTPMD_CPUS']) == ('1', '3')
    assert (first['TESTPMD_NUMA_NODE'], second['TESTPMD_NUMA_NODE']) == ('0', '1')
    assert first['TESTPMD_HUGEPAGES_MB'] == second['TESTPMD_HUGEPAGES_MB'] == '512'
    assert first[first['TESTPMD_PCI_ENV']] == '0000:41:10.0' and second[second['TESTPMD_PCI_ENV']] == '0000:81:10.0'
    # pod 0 sends to pod 1's VF and pod 1 to pod 0's, with the MACs the node has, not the planned ones
    assert (first['TESTPMD_ETH_PEERS'], second['TESTPMD_ETH_PEERS']) == ('02:00:00:00:81:00', '02:00:00:00:41:00')
    assert [pod['planned_peer_macs'] for pod in pods] == [['02:aa:bb:cc:dd:ee'], ['02:5e:1c:9a:03:7f']]
    assert first['TESTPMD_FORWARD_MODE'] == 'mac' and first['TESTPMD_DURATION'] == '7' and first['TESTPMD_TX_FIRST'] == 'true'
    assert first['TESTPMD_WAIT_CPUSET_S'] == '120'
    assert [pod['hugepages_pages'] for pod in pods] == [256, 256]


def test_the_pods_share_one_barrier_directory_and_each_host_process_has_its_own():
    pods = bench.plan_pods(PROOF_PODS, REAL_MACS, 7, GROUPS)
    for pod in pods:
        spec = pod['podman_manifest']['spec']
        volumes = dict((volume['name'], volume['hostPath']['path']) for volume in spec['volumes'])
        assert volumes['start-barrier'] == bench.PLAN_BARRIER_DIR
        assert volumes['hugepages'] == '/dev/hugepages'
        assert volumes['vfio-vfio'] == '/dev/vfio/vfio'
        assert env_of(pod['podman_manifest'])['TESTPMD_START_BARRIER'] == '/run/nfv-dpdk/start/go'
        # The forward barrier sits in the same directory (the pod's mount of it).
        assert env_of(pod['podman_manifest'])['TESTPMD_FORWARD_BARRIER'] == '/run/nfv-dpdk/start/forward'
    assert volumes['vfio-23'] == '/dev/vfio/23' and 'vfio-17' not in volumes
    assert [pod['host_env']['TESTPMD_START_BARRIER'] for pod in pods] == [
        '/run/nfv-dpdk/nfv-bench-host-numa0-start/go', '/run/nfv-dpdk/nfv-bench-host-numa1-start/go']
    assert [pod['host_env']['TESTPMD_FORWARD_BARRIER'] for pod in pods] == [
        '/run/nfv-dpdk/nfv-bench-host-numa0-start/forward', '/run/nfv-dpdk/nfv-bench-host-numa1-start/forward']


def test_the_host_environment_is_the_pods_but_for_the_paths_the_pod_sees_through_mounts():
    for pod in bench.plan_pods(PROOF_PODS, REAL_MACS, 7, GROUPS, huge_dir='/dev/hugepages-2M'):
        in_pod, on_host = env_of(pod['podman_manifest']), dict(pod['host_env'])
        assert on_host.pop('TESTPMD_HUGE_DIR') == '/dev/hugepages-2M' and in_pod.pop('TESTPMD_HUGE_DIR') == '/dev/hugepages'
        assert on_host.pop('TESTPMD_START_BARRIER') != in_pod.pop('TESTPMD_START_BARRIER')
        assert on_host.pop('TESTPMD_FORWARD_BARRIER') != in_pod.pop('TESTPMD_FORWARD_BARRIER')
        assert on_host.pop('PATH')
        assert on_host == in_pod


def test_the_host_process_is_pinned_like_the_pod():
    pod = bench.plan_pods(PROOF_PODS, REAL_MACS, 7, GROUPS)[1]
    assert bench.host_argv(pod, '/var/tmp/launcher') == [
        'systemd-run', '--quiet', '--scope', '--slice=machine.slice', '-p', 'AllowedCPUs=3', '-p', 'AllowedMemoryNodes=1',
        'taskset', '-c', '3', 'sh', '/var/tmp/launcher']


@pytest.mark.parametrize('change, message', [
    ({'numa_node': 0}, 'name one NUMA node twice'),
    ({'hugepage_size': '1G', 'hugepages': '1Gi'}, 'hugepage_size 2M, 1G'),
])
def test_proof_pods_this_benchmark_cannot_run_are_refused(change, message):
    proof_pods = [dict(PROOF_PODS[0]), dict(PROOF_PODS[1], **change)]
    with pytest.raises(SystemExit, match=message):
        bench.plan_pods(proof_pods, REAL_MACS, 7, GROUPS)


def pod_result(numa_node, mpps, passed=True, pps=None):
    return {'numa_node': numa_node, 'mpps': mpps, 'pps_mpps': pps, 'rx_mpps': mpps, 'tx_mpps': mpps, 'duration': 7.0 + numa_node,
            'duration_source': 'log', 'rx_packets': 10, 'tx_packets': 10, 'passed': passed,
            'reasons': [] if passed else ['no packets'], 'command': 'dpdk-testpmd numa%d' % numa_node}


def test_a_run_is_the_sum_of_its_pods_and_counts_only_when_every_pod_passed():
    run = bench.combine([pod_result(0, 0.1, pps=0.09), pod_result(1, 0.2, pps=0.19)])
    assert run['mpps'] == 0.3 and run['pps_mpps'] == 0.28 and run['rx_packets'] == 20 and run['passed'] is True
    assert run['duration'] == 7.0 and run['command'] == ['dpdk-testpmd numa0', 'dpdk-testpmd numa1'] and len(run['pods']) == 2
    run = bench.combine([pod_result(0, 0.1), pod_result(1, 0.0, passed=False)])
    assert run['passed'] is False and run['reasons'] == ['numa1: no packets'] and run['pps_mpps'] is None
    assert bench.combine([])['passed'] is False


def test_summarise_takes_the_plan_runs():
    rounds = []
    for number, (host, pod) in enumerate([(0.30, 0.29), (0.32, 0.33)], 1):
        for kind, total in (('host', host), ('pod', pod)):
            run = bench.combine([pod_result(0, total / 2), pod_result(1, total / 2)])
            run.update(round=number, kind=kind, wall_s=30.0)
            rounds.append(run)
    summary = bench.summarise({'rounds': rounds}, 0.97)
    assert summary['host']['median_mpps'] == pytest.approx(0.31) and summary['pod']['median_mpps'] == pytest.approx(0.31)
    assert summary['ratio'] == 1.0 and summary['passed'] is True and len(summary['paired_ratios']) == 2


class FakeNode:
    """Answers the commands vf_facts and Hugepages run, from a dict of files and command outputs."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.writes = []

    def run(self, argv, timeout=300, podman=False, check=True, stdin=None):
        stdout = self.outputs.get(tuple(argv))
        return subprocess.CompletedProcess(argv, 0 if stdout is not None else 1, stdout or '', '')

    def read(self, path):
        return self.outputs[('cat', path)].strip()

    def write(self, path, value):
        self.writes.append((path, value))
        self.outputs[('cat', path)] = str(value)


def test_a_vfs_mac_is_the_one_its_pf_holds_for_it():
    vf, pf = '/sys/bus/pci/devices/0000:81:10.0', '/sys/bus/pci/devices/0000:81:00.0'
    node = FakeNode({
        ('readlink', vf + '/driver'): '../../../../bus/pci/drivers/vfio-pci\n',
        ('readlink', vf + '/iommu_group'): '../../../../kernel/iommu_groups/23\n',
        ('readlink', vf + '/physfn'): '../0000:81:00.0\n',
        ('cat', vf + '/numa_node'): '1\n',
        ('find', pf + '/', '-maxdepth', '1', '-name', 'virtfn*', '-printf', '%f %l\\n'): 'virtfn1 ../0000:81:10.2\nvirtfn0 ../0000:81:10.0\n',
        ('ls', pf + '/net'): 'ens5\n',
        ('ip', '-j', 'link', 'show', 'dev', 'ens5'): json.dumps([{'ifname': 'ens5', 'vfinfo_list': [
            {'vf': 0, 'address': '02:00:00:00:81:00'}, {'vf': 1, 'address': '02:00:00:00:81:01'}]}]),
    })
    facts = bench.vf_facts(node, '0000:81:10.0')
    assert facts == {'pci': '0000:81:10.0', 'driver': 'vfio-pci', 'iommu_group': '23', 'pf': '0000:81:00.0', 'numa_node': 1,
                     'vf_index': 0, 'pf_netdev': 'ens5', 'mac': '02:00:00:00:81:00'}
    bench.check_plan_vfs([PROOF_PODS[1]], {'0000:81:10.0': facts})
    with pytest.raises(SystemExit, match='0000:81:10.0 .numa1. is on igbvf'):
        bench.check_plan_vfs([PROOF_PODS[1]], {'0000:81:10.0': dict(facts, driver='igbvf')})
    with pytest.raises(SystemExit, match='sits on NUMA node 0'):
        bench.check_plan_vfs([PROOF_PODS[1]], {'0000:81:10.0': dict(facts, numa_node=0)})


def test_hugepages_are_added_only_where_a_node_lacks_them_and_given_back():
    pool = '/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages'
    node = FakeNode({('cat', pool % 0): '256', ('cat', pool % 1): '200'})
    with bench.Hugepages(node, {0: 0, 1: 56}, [0, 1]) as pages:
        assert node.writes == [(pool % 1, 256)]
    assert node.writes[-1] == (pool % 1, 200) and pages.added == {1: 56}


def plan_output(result):
    return json.dumps({'plays': [{'tasks': [{'hosts': {'lab-node': result}}]}]})


def test_the_node_plan_is_read_with_site_vars_plan_and_must_change_nothing(monkeypatch):
    calls = []
    result = {'changed': False, 'proof_pods': PROOF_PODS, 'isolated_cpus': '1,3', 'reserved_cpus': '0,2', 'aligned': True, 'summary': ['...']}

    def run(argv, **kwargs):
        calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 0, plan_output(result), '')
    monkeypatch.setattr(bench.subprocess, 'run', run)
    plan = bench.read_node_plan('/inventory.yml')
    argv, kwargs = calls[0]
    assert argv[1:7] == ['dpdk_nodes', '-i', '/inventory.yml', '-m', 'nfv.dpdk.node_plan', '-a']
    assert json.loads(argv[7]) == {'nics': ['0000:41:00.0', '0000:81:00.0'], 'hugepage_size': '2M', 'hugepages_per_nic_node': '512M',
                                   'vfs_per_pf': 2, 'proof_pod_cpus': 1}
    assert kwargs['env']['ANSIBLE_STDOUT_CALLBACK'] == 'ansible.posix.json'
    assert plan['proof_pods'] == PROOF_PODS and plan['changed'] is False
    result['changed'] = True
    with pytest.raises(SystemExit, match='changed=True .* not read-only'):
        bench.read_node_plan('/inventory.yml')
    result.update(changed=False, proof_pods=[])
    with pytest.raises(SystemExit, match='no proof_pods'):
        bench.read_node_plan('/inventory.yml')


def test_the_other_modes_still_add_the_same_pages_to_every_pool():
    node = FakeNode({('cat', bench.POOL + '/nr_hugepages'): '10'})
    with bench.Hugepages(node, 256) as pages:
        assert node.writes == [(bench.POOL + '/nr_hugepages', 266)]
    assert node.writes[-1] == (bench.POOL + '/nr_hugepages', 10) and pages.added == {None: 256}


class BarrierNode:
    """The node's side of a --plan run for plan_pod_run and plan_host_run: every command is recorded; each launcher
    writes its .ready file when it starts, its .initialised file only after its start barrier (go) exists, and
    forwards only after its forward barrier exists; podman reports the pods exited once they forwarded."""

    def __init__(self, launchers):
        self.launchers = launchers          # {barrier directory: [hostnames]}
        self.files = set()
        self.commands = []
        self.logs = {}

    def _tick(self):
        for directory, names in self.launchers.items():
            for name in names:
                self.files.add('%s/%s.ready' % (directory, name))
                if directory + '/go' in self.files:
                    self.files.add('%s/%s.initialised' % (directory, name))

    def run(self, argv, timeout=300, podman=False, check=True, stdin=None):
        self.commands.append(list(argv))
        self._tick()
        stdout = ''
        if argv[0] == 'touch':
            self.files.update(argv[1:])
        elif argv[0] == 'find':
            directories = [arg for arg in argv[1:] if arg.startswith('/')]
            pattern = argv[-1].lstrip('*')
            stdout = '\n'.join(sorted(path for path in self.files if os.path.dirname(path) in directories and path.endswith(pattern)))
        elif argv[:3] == ['podman', 'container', 'inspect']:
            stdout = json.dumps([{'Name': name, 'State': {'Status': 'exited', 'ExitCode': 0}} for name in argv[3:]])
        elif argv[0] == 'sh' and 'podman logs' in argv[-1]:
            stdout = 'log of %s' % argv[-1].split()[-2]
        return subprocess.CompletedProcess(argv, 0, stdout, '')

    def stream(self, argv, env, timeout):
        self.commands.append(['stream', env['TESTPMD_FORWARD_BARRIER']])
        deadline = time.monotonic() + 10
        while env['TESTPMD_FORWARD_BARRIER'] not in self.files and time.monotonic() < deadline:
            time.sleep(0.05)
        return 0, 'forwarded after %s' % env['TESTPMD_FORWARD_BARRIER'] if env['TESTPMD_FORWARD_BARRIER'] in self.files else 'never released'


def touches(node):
    return [command[1:] for command in node.commands if command[0] == 'touch']


def test_the_pods_forward_only_once_every_one_is_initialised(monkeypatch):
    pods = bench.plan_pods(PROOF_PODS, REAL_MACS, 1, GROUPS)
    node = BarrierNode({bench.PLAN_BARRIER_DIR: [pod['params']['name'] for pod in pods]})
    judged = []
    monkeypatch.setattr(bench, 'judge', lambda log, rc: judged.append(log) or dict(pod_result(0, 0.1), passed=True))
    monkeypatch.setattr(bench.time, 'sleep', lambda seconds: None)
    bench.plan_pod_run(node, pods, 1)
    assert touches(node) == [[bench.PLAN_BARRIER_DIR + '/go'], [bench.PLAN_BARRIER_DIR + '/forward']]
    # The forward barrier came after both initialised files were seen (the last find before it found both).
    finds = [index for index, command in enumerate(node.commands) if command[0] == 'find' and command[-1] == '*.initialised']
    release = node.commands.index(['touch', bench.PLAN_BARRIER_DIR + '/forward'])
    assert finds and finds[-1] < release
    assert judged == ['log of nfv-bench-testpmd-numa0-testpmd', 'log of nfv-bench-testpmd-numa1-testpmd']


def test_the_host_processes_forward_only_once_every_one_is_initialised(monkeypatch):
    pods = bench.plan_pods(PROOF_PODS, REAL_MACS, 1, GROUPS)
    directories = [pod['host_barrier_dir'] for pod in pods]
    node = BarrierNode(dict((directory, ['lab-node']) for directory in directories))
    monkeypatch.setattr(bench, 'judge', lambda log, rc: dict(pod_result(0, 0.1), passed=log.startswith('forwarded')))
    real_sleep = time.sleep
    monkeypatch.setattr(bench.time, 'sleep', lambda seconds: real_sleep(0.01))
    result, log = bench.plan_host_run(node, pods, 1, '/var/tmp/launcher')
    assert result['passed'] is True
    assert touches(node)[:1] == [[directory + '/go' for directory in directories]]
    # One touch releases every host process to forwarding (and repeats the start barrier, which changes nothing).
    assert touches(node)[1] == [directory + name for directory in directories for name in ('/go', '/forward')]
    assert 'forwarded after /run/nfv-dpdk/nfv-bench-host-numa0-start/forward' in log
