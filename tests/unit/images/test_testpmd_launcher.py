# -*- coding: utf-8 -*-
"""The image's launcher (images/testpmd/testpmd-launcher) run by dash against a fake sysfs.

A stand-in dpdk-testpmd (STAND_IN below) prints its arguments, then after a chosen "EAL init" time
the line testpmd 22.11 prints when forwarding starts, statistics until SIGINT, then the final forward
statistics; or it exits before forwarding, or never forwards. So these tests check the command line
the launcher builds (cpuset -> -l/--nb-cores, SR-IOV device plugin variables -> -a, vdevs ->
--vdev/--no-pci, peers, tx-first), when it samples and stops testpmd, and the JSON lines it prints,
read back with the same parser the role uses.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp

LAUNCHER = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'images', 'testpmd', 'testpmd-launcher')
DASH = shutil.which('dash') or shutil.which('sh')
pytestmark = pytest.mark.skipif(not (DASH and shutil.which('timeout') and shutil.which('date')),
                                reason='needs a POSIX shell, timeout and date')


@pytest.fixture
def sysfs(tmp_path):
    """Two NUMA nodes: CPUs 0-3 on node 0, 4-7 on node 1; VFs 0000:41:02.0 (node 0), 0000:81:02.0 (node 1)."""
    root = tmp_path / 'sys'
    for cpu in range(8):
        node_dir = root / 'devices' / 'system' / 'cpu' / ('cpu%d' % cpu) / ('node%d' % (cpu // 4))
        node_dir.mkdir(parents=True)
    for node in (0, 1):
        pool = root / 'devices' / 'system' / 'node' / ('node%d' % node) / 'hugepages' / 'hugepages-2048kB'
        pool.mkdir(parents=True)
        (pool / 'nr_hugepages').write_text('512\n')
        (pool / 'free_hugepages').write_text('%d\n' % (512 - node * 12))
    for address, node in (('0000:41:02.0', 0), ('0000:81:02.0', 1)):
        device = root / 'bus' / 'pci' / 'devices' / address
        device.mkdir(parents=True)
        (device / 'numa_node').write_text('%d\n' % node)
        (device / 'vendor').write_text('0x8086\n')
        (device / 'device').write_text('0x10ca\n')
    return root


# What dpdk-testpmd does, as far as the launcher can tell: STUB_INIT_S seconds of EAL init (taking
# STUB_TAKE_PAGES pages from the free_hugepages file STUB_HUGEPAGES_FILE at its end), then the forwarding
# line, statistics every 0.2 s and, on SIGINT, the final statistics and exit code STUB_RC_AFTER_INT.
# STUB_EXIT_BEFORE_FORWARDING=<rc> exits with that code where the forwarding line would be;
# STUB_NEVER_FORWARD=1 stays in "EAL init"; STUB_IGNORE_INT=1 ignores SIGINT; STUB_FORWARD_S=<s> with
# STUB_SELF_RC=<rc> ends by itself after that long forwarding. With -i (interactive, as the launcher's
# TESTPMD_FORWARD_BARRIER runs it) it prints its prompt after its init and starts forwarding only on a
# "start" command from stdin (quitting at EOF, exiting on SIGINT at the prompt), as testpmd 22.11 does.
# Each step is written with its time.time() to STUB_TIMES (the command to STUB_COMMANDS), so the tests
# can check when the launcher sampled and stopped it. Bounded: it exits 99 by itself after 60 s.
STAND_IN = r"""#!%(python)s
import os, select, signal, sys, time

def note(what):
    with open(os.environ['STUB_TIMES'], 'a') as times:
        times.write('%%s %%.3f\n' %% (what, time.time()))

def out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()

stopped = []
def on_int(signum, frame):
    note('sigint')
    stopped.append(signum)

note('exec')
out('ARGS: ' + ' '.join(sys.argv[1:]))
signal.signal(signal.SIGINT, signal.SIG_IGN if os.environ.get('STUB_IGNORE_INT') else on_int)
deadline = time.time() + 60
time.sleep(float(os.environ.get('STUB_INIT_S', '0')))
while os.environ.get('STUB_NEVER_FORWARD') and not stopped and time.time() < deadline:
    time.sleep(0.1)
if stopped:
    out('EAL: interrupted during init')
    sys.exit(int(os.environ.get('STUB_RC_AFTER_INT', '0')))
if os.environ.get('STUB_EXIT_BEFORE_FORWARDING'):
    sys.stderr.write('EAL: Error - exiting with code: 1\n  Cause: Cannot init EAL: Invalid argument\n')
    sys.exit(int(os.environ['STUB_EXIT_BEFORE_FORWARDING']))
if os.environ.get('STUB_HUGEPAGES_FILE'):
    with open(os.environ['STUB_HUGEPAGES_FILE']) as pool:
        free = int(pool.read())
    with open(os.environ['STUB_HUGEPAGES_FILE'], 'w') as pool:
        pool.write('%%d\n' %% (free - int(os.environ.get('STUB_TAKE_PAGES', '0'))))
out('Configuring Port 0 (socket 0)')
out('Port 0: 02:00:00:00:00:01')
out('Checking link statuses...')
out('Done')
interactive = '-i' in sys.argv[1:]
if interactive:
    sys.stdout.write('testpmd> ')
    sys.stdout.flush()
    note('prompt')
    typed = ''
    while '\n' not in typed:
        if stopped or time.time() > deadline:
            out('')
            out('Signal 2 received, preparing to exit...')
            out('Bye...')
            sys.exit(int(os.environ.get('STUB_RC_AFTER_INT', '0')))
        if select.select([0], [], [], 0.1)[0]:
            chunk = os.read(0, 1024).decode()
            if not chunk:
                out('')
                out('Bye...')
                sys.exit(0)
            typed += chunk
    command = typed.split('\n')[0].strip()
    with open(os.environ['STUB_COMMANDS'], 'a') as commands:
        commands.write(command + '\n')
    out(command)
else:
    out('No commandline core given, start packet forwarding')
out('io packet forwarding - ports=1 - cores=1 - streams=1 - NUMA support enabled, MP allocation mode: native')
note('forwarding')
if interactive:
    sys.stdout.write('testpmd> ')
    sys.stdout.flush()
forwarding = time.time()
packets = 0
while not stopped and time.time() < deadline:
    if os.environ.get('STUB_FORWARD_S') and time.time() - forwarding >= float(os.environ['STUB_FORWARD_S']):
        sys.exit(int(os.environ.get('STUB_SELF_RC', '0')))
    time.sleep(0.2)
    packets += 3200
    # Interactive testpmd prints no periodic statistics (--stats-period is for the non-interactive mode).
    if not interactive:
        out('  RX-packets: %%-10d RX-missed: 0          RX-bytes:  0' %% packets)
if not stopped:
    sys.exit(99)
out('Telling cores to stop...')
out('Waiting for lcores to finish...')
out('')
out('  ---------------------- Forward statistics for port 0  ----------------------')
out('  RX-packets: %%-14d RX-dropped: 0             RX-total: %%d' %% (packets, packets))
out('  TX-packets: %%-14d TX-dropped: 0             TX-total: %%d' %% (packets, packets))
out('  ----------------------------------------------------------------------------')
out('')
out('  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++')
out('  RX-packets: %%-14d RX-dropped: 0             RX-total: %%d' %% (packets, packets))
out('  TX-packets: %%-14d TX-dropped: 0             TX-total: %%d' %% (packets, packets))
out('  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++')
out('')
out('Done.')
out('Bye...')
sys.exit(int(os.environ.get('STUB_RC_AFTER_INT', '0')))
"""


def run(tmp_path, sysfs, env, stub=None, timeout=30):
    stub_dir = tmp_path / 'bin'
    stub_dir.mkdir(exist_ok=True)
    stand_in = stub_dir / 'dpdk-testpmd'
    stand_in.write_text(STAND_IN % {'python': sys.executable})
    stand_in.chmod(0o755)
    full_env = {'PATH': '%s:%s' % (stub_dir, os.environ.get('PATH', '/usr/bin:/bin')), 'TESTPMD_SYSFS': str(sysfs),
                'TESTPMD_DURATION': '1', 'TMPDIR': str(tmp_path), 'STUB_TIMES': str(tmp_path / 'times'),
                'STUB_COMMANDS': str(tmp_path / 'commands')}
    full_env.update(stub or {})
    full_env.update(env)
    result = subprocess.run([DASH, LAUNCHER], env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    # testpmd's output file in TMPDIR (and the forward barrier's .done) go when the launcher ends (outside a
    # container nothing else removes them).
    assert sorted(path.name for path in tmp_path.glob('nfv-dpdk-testpmd.*')) == []
    args = [line[len('ARGS: '):].split() for line in result.stdout.splitlines() if line.startswith('ARGS: ')]
    return result, (args[0] if args else None), tp.parse_testpmd_log(result.stdout)


def stand_in_times(tmp_path):
    """{step: time.time()} of what the stand-in did (exec, forwarding, sigint)."""
    times = {}
    if (tmp_path / 'times').exists():
        for line in (tmp_path / 'times').read_text().splitlines():
            what, when = line.split()
            times.setdefault(what, float(when))
    return times


def launcher_events(result):
    return [json.loads(line[len(tp.LAUNCHER_PREFIX):]) for line in result.stdout.splitlines()
            if line.startswith(tp.LAUNCHER_PREFIX)]


def test_sriov_vfs_and_cpuset_make_the_command_line_and_the_placement_line(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {
        'TESTPMD_CPUS': '2-3,6', 'TESTPMD_PCI_ENV': 'PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK',
        'PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK': '0000:41:02.0,0000:81:02.0', 'PCIDEVICE_OTHER': '0000:00:09.0',
        'TESTPMD_FORWARD_MODE': 'mac', 'TESTPMD_ETH_PEERS': '02:00:00:00:00:02,02:00:00:00:00:01'})
    assert result.returncode == 0, result.stderr
    eal, testpmd = args[:args.index('--')], args[args.index('--') + 1:]
    assert eal[:2] == ['-l', '2-3,6']
    assert [eal[i + 1] for i, arg in enumerate(eal) if arg == '-a'] == ['0000:41:02.0', '0000:81:02.0']
    assert '--no-pci' not in eal and '--huge-unlink' in eal
    assert eal[eal.index('--huge-dir') + 1] == '/dev/hugepages'
    assert '--forward-mode=mac' in testpmd and '--nb-cores=2' in testpmd and '--tx-first' in testpmd
    assert '--eth-peer=0,02:00:00:00:00:02' in testpmd and '--eth-peer=1,02:00:00:00:00:01' in testpmd
    pod = stats['pod']
    assert pod['cpus'] == '2-3,6' and pod['cpu_nodes'] == {'2': 0, '3': 0, '6': 1}
    assert pod['nics'] == [{'pci': '0000:41:02.0', 'numa_node': 0, 'vendor': '8086', 'device': '10ca'},
                           {'pci': '0000:81:02.0', 'numa_node': 1, 'vendor': '8086', 'device': '10ca'}]
    assert pod['hugepages']['node1']['2048kB'] == {'total': 512, 'free': 500}
    assert stats['exit']['rc'] == 0 and stats['exit']['elapsed_s'] >= 0 and stats['exit']['stopped_by'] == 'INT'
    assert stats['has_totals'] and stats['totals']['rx_packets'] > 0
    assert stats['numa']['aligned'] is True


def test_a_nic_on_a_node_without_pod_cpus_is_a_numa_mismatch(tmp_path, sysfs):
    stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'PCIDEVICE_INTEL_COM_X': '0000:81:02.0'})[2]
    assert stats['numa']['aligned'] is False
    assert stats['numa']['mismatches'] == ['NIC 0000:81:02.0 on node 1, pod CPUs 0-1 on node(s) 0']


def test_without_the_variable_name_every_pcidevice_variable_is_used(tmp_path, sysfs):
    args = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'PCIDEVICE_A_COM_X': '0000:41:02.0', 'PCIDEVICE_B_COM_Y': '0000:81:02.0'})[1]
    assert sorted(args[i + 1] for i, arg in enumerate(args) if arg == '-a') == ['0000:41:02.0', '0000:81:02.0']


def test_vdevs_run_without_pci(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0;net_af_packet1,iface=veth1',
                                                'TESTPMD_FORWARD_MODE': 'rxonly', 'TESTPMD_STATS_PERIOD': '2'})
    assert result.returncode == 0
    assert [args[i + 1] for i, arg in enumerate(args) if arg == '--vdev'] == ['net_null0', 'net_af_packet1,iface=veth1']
    assert '--no-pci' in args and '--tx-first' not in args
    assert args[args.index('--stats-period') + 1] == '2'
    assert stats['pod']['vdevs'] == ['net_null0', 'net_af_packet1,iface=veth1'] and stats['pod']['nics'] == []


def test_testpmd_failure_is_passed_on(tmp_path, sysfs):
    result, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0'},
                        {'STUB_EXIT_BEFORE_FORWARDING': '1'})[0::2]
    assert result.returncode == 1 and stats['exit']['rc'] == 1
    assert 'testpmd exited with code 1' in tp.testpmd_verdict(stats)['reasons'][0]


@pytest.mark.parametrize('env,message', [
    ({'TESTPMD_CPUS': '0-1'}, 'no ports'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_NUMA_NODE': '1'}, 'needs TESTPMD_HUGEPAGES_MB'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_NUMA_NODE': '2', 'TESTPMD_HUGEPAGES_MB': '256'},
     'NUMA nodes 0-1'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_NUMA_NODE': 'one'}, 'TESTPMD_NUMA_NODE must be'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_SAMPLE_AT': 'half'}, 'TESTPMD_SAMPLE_AT must be'),
    ({'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '10s'}, 'TESTPMD_DURATION'),
    ({'TESTPMD_CPUS': '0-1', 'TESTPMD_PCI_ENV': 'X;rm', 'TESTPMD_VDEVS': 'net_null0'}, 'TESTPMD_PCI_ENV must be a variable name'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_START_BARRIER': '/nonexistent-nfv-dpdk/go'},
     'the start barrier directory /nonexistent-nfv-dpdk does not exist'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_START_BARRIER': 'start/go'},
     'TESTPMD_START_BARRIER must be an absolute path'),
    ({'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_START_BARRIER': '/tmp/go', 'TESTPMD_START_TIMEOUT_S': '5m'},
     'TESTPMD_START_TIMEOUT_S must be'),
])
def test_bad_configuration_exits_2_before_testpmd(tmp_path, sysfs, env, message):
    result, args, stats = run(tmp_path, sysfs, env)
    assert result.returncode == 2 and args is None
    assert message in result.stderr
    assert stats['exit']['rc'] == 2 and message in stats['exit']['error']


def test_one_cpu_runs_the_main_and_the_forwarding_lcore_on_it(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'PCIDEVICE_A_COM_X': '0000:41:02.0'})
    assert result.returncode == 0, result.stderr
    eal, testpmd = args[:args.index('--')], args[args.index('--') + 1:]
    assert eal[:2] == ['--lcores', '(0,1)@3'] and '-l' not in eal
    assert '--nb-cores=1' in testpmd
    assert stats['pod']['lcores'] == '(0,1)@3' and stats['pod']['cpu_nodes'] == {'3': 0}


def test_numa_node_takes_the_pods_hugepages_there_and_none_elsewhere(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '5', 'PCIDEVICE_A_COM_X': '0000:81:02.0',
                                                'TESTPMD_NUMA_NODE': '1', 'TESTPMD_HUGEPAGES_MB': '256'})
    assert result.returncode == 0, result.stderr
    eal = args[:args.index('--')]
    assert eal[eal.index('--socket-mem') + 1] == '0,256' and eal[eal.index('--socket-limit') + 1] == '0,256'
    assert stats['pod']['socket_mem'] == {'1': 256}


def test_without_a_numa_node_eal_chooses_the_memory(tmp_path, sysfs):
    args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0'})[1:]
    assert '--socket-mem' not in args and '--socket-limit' not in args
    assert stats['pod']['socket_mem'] == {}


def test_cgroup_cpuset_is_reported_besides_the_affinity(tmp_path, sysfs):
    cgroup = sysfs / 'fs' / 'cgroup'
    cgroup.mkdir(parents=True)
    (cgroup / 'cpuset.cpus.effective').write_text('3\n')
    stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0'})[2]
    assert stats['pod']['cgroup_cpus'] == '3' and stats['pod']['cpus'] == '3'


def test_without_a_cgroup_cpuset_the_affinity_is_reported(tmp_path, sysfs):
    stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0'})[2]
    with open('/proc/self/status') as handle:
        affinity = [line.split()[1] for line in handle if line.startswith('Cpus_allowed_list:')][0]
    assert stats['pod']['cgroup_cpus'] == affinity


def test_free_hugepages_are_sampled_once_forwarding_started(tmp_path, sysfs):
    """EAL takes its memory during init, which can outlast half the duration: the sample waits for forwarding."""
    pool = sysfs / 'devices' / 'system' / 'node' / 'node1' / 'hugepages' / 'hugepages-2048kB' / 'free_hugepages'
    result = run(tmp_path, sysfs, {'TESTPMD_CPUS': '5', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '2',
                                   'TESTPMD_NUMA_NODE': '1', 'TESTPMD_HUGEPAGES_MB': '256'},
                 {'STUB_INIT_S': '3', 'STUB_HUGEPAGES_FILE': str(pool), 'STUB_TAKE_PAGES': '128'})[0]
    assert result.returncode == 0, result.stderr
    samples = [event for event in launcher_events(result) if event['event'] == 'sample']
    assert len(samples) == 1, result.stdout
    # 500 free before the run (the fixture), 128 pages of 2 MiB taken by EAL = --socket-mem 256 MiB.
    assert samples[0]['hugepages']['node1']['2048kB'] == {'total': 512, 'free': 372}
    assert samples[0]['after_s'] >= 3 and samples[0]['forwarding_s'] == 0
    stats = tp.parse_testpmd_log(result.stdout)
    assert stats['pod']['hugepages']['node1']['2048kB']['free'] == 500


def test_the_sample_comes_sample_at_seconds_into_forwarding(tmp_path, sysfs):
    result = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '3',
                                   'TESTPMD_SAMPLE_AT': '2'}, {'STUB_INIT_S': '1'})[0]
    samples = [event for event in launcher_events(result) if event['event'] == 'sample']
    assert len(samples) == 1 and samples[0]['forwarding_s'] == 2 and samples[0]['after_s'] >= 3


def test_no_sample_when_sample_at_is_not_within_the_duration(tmp_path, sysfs):
    result = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '1',
                                   'TESTPMD_SAMPLE_AT': '1'})[0]
    assert result.returncode == 0, result.stderr
    assert '"event": "sample"' not in result.stdout


def test_the_duration_counts_from_forwarding_start_not_from_testpmds_start(tmp_path, sysfs):
    """A slow EAL init (hugepages mapped under emulation) must not eat the forwarding window."""
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '2'},
                              {'STUB_INIT_S': '3'})
    assert result.returncode == 0, result.stderr
    times = stand_in_times(tmp_path)
    assert times['forwarding'] - times['exec'] >= 3
    # SIGINT came TESTPMD_DURATION after forwarding started (give or take the launcher's 0.2 s polls),
    # so 5 s or more after testpmd started: timeout -s INT 2 would have stopped it during init.
    # (upper bounds are loose: a loaded CI machine may be seconds late, never early)
    assert 2 <= times['sigint'] - times['forwarding'] < 10
    assert times['sigint'] - times['exec'] >= 5
    events = launcher_events(result)
    assert [event['event'] for event in events] == ['start', 'forwarding', 'sample', 'exit']
    assert events[1]['after_s'] >= 3
    assert 2 <= stats['exit']['forwarding_s'] < 10 and stats['exit']['elapsed_s'] >= 5
    assert stats['exit']['rc'] == 0 and stats['exit']['testpmd_rc'] == 0 and stats['has_totals']
    # testpmd's output went through the launcher in order: forwarding line, statistics, final statistics.
    assert result.stdout.index('packet forwarding - ports=') < result.stdout.index('Accumulated forward statistics')


@pytest.mark.parametrize('rc_after_int,launcher_rc', [(0, 0), (130, 0), (1, 1)])
def test_testpmd_stopped_by_our_sigint_is_a_success_whatever_else_fails(tmp_path, sysfs, rc_after_int, launcher_rc):
    """22.11 exits 0 after SIGINT; a build that re-raises the signal exits 130; anything else is passed on."""
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0'},
                              {'STUB_RC_AFTER_INT': str(rc_after_int)})
    assert result.returncode == launcher_rc
    assert stats['exit']['rc'] == launcher_rc and stats['exit']['testpmd_rc'] == rc_after_int
    assert stats['exit']['stopped_by'] == 'INT'


def test_testpmd_dying_before_forwarding_passes_its_code_on_without_a_sample(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '20'},
                              {'STUB_INIT_S': '1', 'STUB_EXIT_BEFORE_FORWARDING': '3'})
    assert result.returncode == 3 and args is not None
    assert [event['event'] for event in launcher_events(result)] == ['start', 'exit']
    assert stats['exit'] == {'event': 'exit', 'rc': 3, 'testpmd_rc': 3, 'stopped_by': 'none',
                             'elapsed_s': stats['exit']['elapsed_s'], 'forwarding_s': None}
    # It ended when testpmd did, not after TESTPMD_DURATION.
    assert stats['exit']['elapsed_s'] < 10
    assert 'sigint' not in stand_in_times(tmp_path)
    assert 'testpmd exited with code 3' in tp.testpmd_verdict(stats)['reasons'][0]


def test_testpmd_that_never_forwards_is_stopped_and_failed_after_the_start_timeout(tmp_path, sysfs):
    started = time.time()
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_START_TIMEOUT_S': '2'},
                              {'STUB_NEVER_FORWARD': '1', 'STUB_RC_AFTER_INT': '0'})
    assert time.time() - started < 30
    assert result.returncode == 2 and args is not None
    message = 'testpmd did not start forwarding within TESTPMD_START_TIMEOUT_S=2 s (stopped with SIGINT, exit code 0)'
    assert message in result.stderr
    assert stats['exit']['rc'] == 2 and stats['exit']['error'] == message and stats['exit']['forwarding_s'] is None
    # The 2 s count from the launcher's start event, a moment before testpmd is executed.
    assert stand_in_times(tmp_path)['sigint'] - stand_in_times(tmp_path)['exec'] >= 1.5
    assert '"event": "forwarding"' not in result.stdout and '"event": "sample"' not in result.stdout


def test_testpmd_that_ignores_sigint_is_killed_after_10_seconds(tmp_path, sysfs):
    started = time.time()
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0'},
                              {'STUB_IGNORE_INT': '1'}, timeout=40)
    assert 10 <= time.time() - started < 35
    assert result.returncode == 137 and stats['exit']['rc'] == 137 and stats['exit']['stopped_by'] == 'KILL'
    assert 1 <= stats['exit']['forwarding_s'] < 10


def test_testpmd_ending_by_itself_while_forwarding_passes_its_code_on(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '20'},
                              {'STUB_FORWARD_S': '1', 'STUB_SELF_RC': '5'})
    assert result.returncode == 5 and stats['exit']['rc'] == 5 and stats['exit']['stopped_by'] == 'none'
    # The launcher counts from the moment it reads testpmd's forwarding line: on a loaded machine that
    # is late, so the span comes out shorter than the stand-in's 1 s (0.85 s seen), never near the 20 s duration.
    assert 0 < stats['exit']['forwarding_s'] < 10 and 'sigint' not in stand_in_times(tmp_path)


def test_hugepage_files_are_named_after_the_pod(tmp_path, sysfs):
    """Pods of one node share its hugetlbfs mount under podman and each launcher is PID 1: the prefix has the hostname."""
    args = run(tmp_path, sysfs, {'TESTPMD_CPUS': '0-1', 'TESTPMD_VDEVS': 'net_null0'})[1]
    with open('/proc/sys/kernel/hostname') as handle:
        hostname = handle.read().strip()
    prefix = args[args.index('--file-prefix') + 1]
    assert prefix.startswith('testpmd_') and (hostname in prefix or '.' in hostname)


def test_the_launcher_waits_until_its_cgroup_holds_its_cpus(tmp_path, sysfs):
    """podman pins a container only once it runs: the launcher waits (bounded) for the pin before testpmd."""
    cgroup = sysfs / 'fs' / 'cgroup'
    cgroup.mkdir(parents=True)
    (cgroup / 'cpuset.cpus.effective').write_text('0-7\n')
    writer = subprocess.Popen([DASH, '-c', 'sleep 2; echo 3 > %s/cpuset.cpus.effective' % cgroup])
    try:
        stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_WAIT_CPUSET_S': '20'})[2]
    finally:
        writer.wait(timeout=30)
    assert stats['pod']['cgroup_cpus'] == '3'


def test_a_pin_that_never_comes_is_reported_after_the_bound(tmp_path, sysfs):
    cgroup = sysfs / 'fs' / 'cgroup'
    cgroup.mkdir(parents=True)
    (cgroup / 'cpuset.cpus.effective').write_text('0-7\n')
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_WAIT_CPUSET_S': '1'})
    assert result.returncode == 0 and args is not None
    assert stats['pod']['cgroup_cpus'] == '0-7'


def _hostname():
    with open('/proc/sys/kernel/hostname') as handle:
        return handle.read().strip()


def test_the_launcher_says_it_is_ready_and_starts_testpmd_only_at_the_barrier(tmp_path, sysfs):
    """Pods that must forward together: each writes <hostname>.ready, then waits for the barrier file."""
    barrier_dir = tmp_path / 'barrier'
    barrier_dir.mkdir()
    ready = barrier_dir / (_hostname() + '.ready')
    barrier = barrier_dir / 'go'
    # What the role does: wait for the ready file, then create the barrier; testpmd must not run before.
    releaser = subprocess.Popen([DASH, '-c', 'n=0; while [ ! -e "$1" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; '
                                 'sleep 2; [ -e "$1" ] && : > "$2"', 'releaser', str(ready), str(barrier)])
    try:
        result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0',
                                                    'TESTPMD_START_BARRIER': str(barrier), 'TESTPMD_START_TIMEOUT_S': '20'})
    finally:
        assert releaser.wait(timeout=30) == 0, 'the launcher never wrote its ready file %s' % ready
    assert result.returncode == 0 and args is not None
    lines = [line for line in result.stdout.splitlines() if line.startswith(tp.LAUNCHER_PREFIX)]
    events = [json.loads(line[len(tp.LAUNCHER_PREFIX):])['event'] for line in lines]
    assert events[:2] == ['ready', 'start'] and events[-1] == 'exit'
    ready_event = json.loads(lines[0][len(tp.LAUNCHER_PREFIX):])
    assert ready_event['ready_file'] == str(ready) and ready_event['timeout_s'] == 20
    # The barrier came 2 s after the ready file: the launcher waited for it before testpmd started.
    assert stats['pod']['barrier_waited_s'] >= 1
    assert result.stdout.index('"event": "start"') < result.stdout.index('ARGS: ')


def test_a_barrier_that_never_comes_fails_after_the_bound_without_testpmd(tmp_path, sysfs):
    barrier_dir = tmp_path / 'barrier'
    barrier_dir.mkdir()
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0',
                                                'TESTPMD_START_BARRIER': str(barrier_dir / 'go'), 'TESTPMD_START_TIMEOUT_S': '1'})
    assert result.returncode == 2 and args is None
    assert (barrier_dir / (_hostname() + '.ready')).exists()
    message = 'the start barrier %s did not appear within TESTPMD_START_TIMEOUT_S=1 s' % (barrier_dir / 'go')
    assert message in result.stderr
    assert stats['exit']['rc'] == 2 and stats['exit']['error'] == message


def test_without_a_barrier_the_launcher_neither_writes_nor_waits(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0'})
    assert result.returncode == 0 and args is not None
    assert '"event": "ready"' not in result.stdout and stats['pod']['barrier_waited_s'] == 0


def stand_in_commands(tmp_path):
    """The commands the interactive stand-in read from its stdin."""
    path = tmp_path / 'commands'
    return path.read_text().splitlines() if path.exists() else []


def release_when(trigger, barrier, delay):
    """What the role or the benchmark does: once ``trigger`` exists, wait ``delay`` s, then create ``barrier`` (bounded)."""
    return subprocess.Popen([DASH, '-c', 'n=0; while [ ! -e "$1" ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n+1)); done; '
                             '[ -e "$1" ] || exit 1; sleep "$3"; : > "$2"', 'releaser', str(trigger), str(barrier), str(delay)])


def test_the_forward_barrier_holds_testpmd_at_its_prompt_after_init_until_the_barrier(tmp_path, sysfs):
    """Pods whose EAL init takes different times: each says it is initialised, then forwards only at the barrier."""
    barrier_dir = tmp_path / 'forward'
    barrier_dir.mkdir()
    initialised = barrier_dir / (_hostname() + '.initialised')
    barrier = barrier_dir / 'go'
    releaser = release_when(initialised, barrier, 2)
    try:
        result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_FORWARD_MODE': 'mac',
                                                    'TESTPMD_FORWARD_BARRIER': str(barrier), 'TESTPMD_START_TIMEOUT_S': '20'},
                                  stub={'STUB_INIT_S': '0.5'})
    finally:
        assert releaser.wait(timeout=30) == 0, 'the launcher never wrote its initialised file %s' % initialised
    assert result.returncode == 0, result.stderr
    # Interactive, and the first burst comes from the start command, not from --tx-first.
    assert args[args.index('--') + 1] == '-i' and '--tx-first' not in args
    assert stand_in_commands(tmp_path) == ['start tx_first']
    events = launcher_events(result)
    assert [event['event'] for event in events] == ['start', 'initialised', 'forwarding', 'sample', 'exit']
    assert events[1]['initialised_file'] == str(initialised) and events[1]['barrier'] == str(barrier) and events[1]['timeout_s'] == 20
    assert initialised.read_text() == 'ok\n'
    times = stand_in_times(tmp_path)
    # Forwarding began about 2 s after the prompt (when the barrier came), and lasted TESTPMD_DURATION from there.
    assert times['forwarding'] - times['prompt'] >= 1.8
    assert barrier.stat().st_mtime <= times['forwarding'] + 0.05
    assert times['sigint'] - times['forwarding'] >= 1.0
    assert events[-1]['rc'] == 0 and events[-1]['stopped_by'] == 'INT' and events[-1]['forwarding_s'] >= 1.0
    # The parser sees the run through the prompts: the final statistics, and the stop line after a prompt.
    assert stats['totals']['rx_packets'] > 0 and 'testpmd> Telling cores to stop...' in result.stdout


@pytest.mark.parametrize('env, command', [
    ({'TESTPMD_FORWARD_MODE': 'io', 'TESTPMD_TX_FIRST': 'false'}, 'start'),
    ({'TESTPMD_FORWARD_MODE': 'rxonly'}, 'start'),
    ({'TESTPMD_FORWARD_MODE': 'io'}, 'start tx_first'),
])
def test_the_start_command_sends_a_first_burst_only_where_tx_first_would(tmp_path, sysfs, env, command):
    barrier = tmp_path / 'go'
    barrier.write_text('')
    full_env = {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_FORWARD_BARRIER': str(barrier)}
    full_env.update(env)
    result, args, stats = run(tmp_path, sysfs, full_env)
    assert result.returncode == 0, result.stderr
    assert stand_in_commands(tmp_path) == [command] and '--tx-first' not in args


def test_a_forward_barrier_that_never_comes_stops_testpmd_at_its_prompt_and_fails(tmp_path, sysfs):
    barrier_dir = tmp_path / 'forward'
    barrier_dir.mkdir()
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0',
                                                'TESTPMD_FORWARD_BARRIER': str(barrier_dir / 'go'), 'TESTPMD_START_TIMEOUT_S': '1'})
    assert result.returncode == 2
    assert (barrier_dir / (_hostname() + '.initialised')).read_text() == 'ok\n'
    assert stand_in_commands(tmp_path) == [] and 'forwarding' not in stand_in_times(tmp_path)
    message = ("the forward barrier %s did not appear within TESTPMD_START_TIMEOUT_S=1 s after testpmd's init "
               "(stopped with SIGINT, exit code 0)" % (barrier_dir / 'go'))
    assert message in result.stderr and stats['exit']['error'] == message


def test_a_forward_barrier_in_a_missing_directory_fails_before_testpmd(tmp_path, sysfs):
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0',
                                                'TESTPMD_FORWARD_BARRIER': str(tmp_path / 'missing' / 'go')})
    assert result.returncode == 2 and args is None
    assert stats['exit']['error'] == 'the forward barrier directory %s does not exist (TESTPMD_FORWARD_BARRIER)' % (tmp_path / 'missing')


def test_a_ready_file_that_cannot_be_written_fails_with_the_launchers_own_exit_line(tmp_path, sysfs):
    """A failed redirection on ':' (a special built-in) would make sh exit 2 with no exit line: the launcher uses true."""
    barrier_dir = tmp_path / 'barrier'
    (barrier_dir / (_hostname() + '.ready')).mkdir(parents=True)
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0',
                                                'TESTPMD_START_BARRIER': str(barrier_dir / 'go')})
    assert result.returncode == 2 and args is None
    assert stats['exit'] is not None and stats['exit']['error'] == 'cannot write the ready file %s' % (barrier_dir / (_hostname() + '.ready'))


@pytest.mark.parametrize('stub, reason', [
    ({'STUB_EXIT_BEFORE_FORWARDING': '1'}, 'testpmd exited before its prompt'),
    ({'STUB_NEVER_FORWARD': '1'}, 'testpmd did not start forwarding within TESTPMD_START_TIMEOUT_S=1 s'),
])
def test_testpmd_that_never_reaches_its_prompt_still_writes_the_initialised_file_so_nobody_waits(tmp_path, sysfs, stub, reason):
    barrier_dir = tmp_path / 'forward'
    barrier_dir.mkdir()
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_START_TIMEOUT_S': '1',
                                                'TESTPMD_FORWARD_BARRIER': str(barrier_dir / 'go')}, stub=stub)
    assert result.returncode != 0 and stand_in_commands(tmp_path) == []
    assert (barrier_dir / (_hostname() + '.initialised')).read_text() == 'failed: %s\n' % reason
    assert '"event": "initialised"' not in result.stdout


def test_while_testpmd_forwards_the_launcher_starts_at_most_a_few_processes_a_second(tmp_path, sysfs):
    """The launcher shares the pod's one CPU with testpmd: while it forwards, date and sleep (the only programs the
    loop starts) run about twice a second, not five times (0.2 s polling), in the launcher and its stdin feeder."""
    stub_dir = tmp_path / 'bin'
    stub_dir.mkdir()
    for program in ('sleep', 'date'):
        wrapper = stub_dir / program
        wrapper.write_text('#!/bin/sh\necho "%s $(%s +%%s.%%N)" >> %s\nexec %s "$@"\n' % (
            program, shutil.which('date'), tmp_path / 'spawns', shutil.which(program)))
        wrapper.chmod(0o755)
    barrier = tmp_path / 'go'
    barrier.write_text('')
    result, args, stats = run(tmp_path, sysfs, {'TESTPMD_CPUS': '3', 'TESTPMD_VDEVS': 'net_null0', 'TESTPMD_DURATION': '4',
                                                'TESTPMD_FORWARD_BARRIER': str(barrier)})
    assert result.returncode == 0, result.stderr
    times = stand_in_times(tmp_path)
    spawns = [float(line.split()[1]) for line in (tmp_path / 'spawns').read_text().splitlines()]
    during = [when for when in spawns if times['forwarding'] + 0.5 < when < times['sigint'] - 0.5]
    seconds = times['sigint'] - times['forwarding'] - 1.0
    assert seconds >= 2.5 and len(during) <= 3 * seconds + 2, (len(during), seconds)
    # and the forwarding still lasted TESTPMD_DURATION, stopped within a poll of its end
    assert 4.0 <= stats['exit']['forwarding_s'] <= 5.0
