#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Wall time of each nfv.dpdk module doing nothing (already converged): catches slow sysfs walks.

(a) In-process, on a large fake host built with the unit-test helpers (tests/unit/): 2 sockets x
    32 cores x 2 threads (128 CPUs, 2 NUMA nodes), 4 Intel X710 PFs (2 per NUMA node) with 64 VFs
    each (--vfs-per-pf) bound to vfio-pci (256 VFs), an I350 management NIC, 48 more PCI functions, 2M and 1G
    hugepage pools, a kubeadm kubelet configuration. Each module is first converged (run until it
    reports no change; a reboot is simulated by copying the configured kernel command line to
    /proc/cmdline), then its main() runs N more times; median and p95 in ms.
(b) With --lab: over SSH on the lab node (lab/labctl), ``ansible -m nfv.dpdk.<module> -a ... --check``
    with the arguments lab/site-vars.yml gives the role, minus ``ansible -m ansible.builtin.ping``
    (the cost of a module round trip that does nothing). Read-only: check mode, the node is not changed.

    .venv/bin/python bench/module_overhead.py [--runs 30] [--vfs-per-pf 64] [--lab] [--lab-runs 5]
"""

import argparse
import cProfile
import functools
import importlib
import json
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time

import benchlib

VFS_PER_PF = 64
PFS = [  # address, NUMA node, netdev, IOMMU group
    ('0000:31:00.0', 0, 'ens1f0', 40), ('0000:31:00.1', 0, 'ens1f1', 41),
    ('0000:b1:00.0', 1, 'ens2f0', 60), ('0000:b1:00.1', 1, 'ens2f1', 61),
]
MGMT = '0000:18:00.0'
GRUB = ('GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n'
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="console=ttyS0,115200n8"\n')
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
BOOT = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro'
KUBELET_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock
staticPodPath: /etc/kubernetes/manifests
"""
IRQBALANCE = '#IRQBALANCE_ONESHOT=\n#IRQBALANCE_BANNED_CPULIST=\n#IRQBALANCE_ARGS=\n'
HUGE_DIR = '/dev/hugepages-1G'

# Isolated: every CPU but the first core (both threads) of each socket.
ISOLATED = '1-31,33-63,65-95,97-127'
RESERVED = '0,32,64,96'


def module_args(vfs_per_pf=VFS_PER_PF):
    """What each module is asked in the benchmark (as dpdk_node / kubelet_cpu_manager would ask it)."""
    return [
        ('node_facts', {}),
        ('node_facts', {'include_vfs': True}),
        ('iommu_grub', {'vendor': 'intel'}),
        ('cpu_isolation', {'isolated_cpus': ISOLATED, 'reserved_cpus': RESERVED}),
        ('hugepages', {'pools': [{'size': '2M', 'count': 1024, 'node': 0}, {'size': '2M', 'count': 1024, 'node': 1},
                                 {'size': '1G', 'count': 16, 'node': 0}, {'size': '1G', 'count': 16, 'node': 1}],
                       'boot': True, 'mounts': [{'path': HUGE_DIR, 'size': '1G'}]}),
        ('sriov_vfs', {'pfs': [{'device': address, 'num_vfs': vfs_per_pf,
                                'vfs': [{'index': 0, 'mac': '02:00:00:00:%02x:00' % number, 'spoofchk': False, 'trust': True}]}
                               for number, (address, _node, _ifname, _group) in enumerate(PFS)]}),
        ('driver_bind', {'vfs_of': [address for address, _node, _ifname, _group in PFS], 'driver': 'vfio-pci'}),
        ('kubelet_config', {'cpu_manager_policy': 'static', 'reserved_system_cpus': RESERVED,
                            'topology_manager_policy': 'single-numa-node'}),
        ('kubelet_state', {'state': 'absent'}),
    ]


def build_host(root, fakehost, vfs_per_pf=VFS_PER_PF):
    """The big fake host (a FakeHost); kernel write semantics are installed by the caller."""
    host = fakehost.FakeHost(root)
    host.topology(sockets=2, cores_per_socket=32, threads_per_core=2, mem_per_node_kb=256 * 1024 * 1024)
    for node in (None, 0, 1):
        host.hugepages(2048, total=0, node=node)
        host.hugepages(1048576, total=0, node=node)
    host.pci_device('0000:00:00.0', device='0x2020', pci_class='0x060000', numa_node=0, iommu_group=0)
    # Bridges, storage and other functions a real 2-socket server has (48 of them).
    for index in range(48):
        bus = 0x10 + index if index < 24 else 0x90 + index - 24
        host.pci_device('0000:%02x:00.0' % bus, device='0x%04x' % (0x2030 + index % 8), pci_class='0x060400' if index % 3 else '0x088000',
                        numa_node=0 if index < 24 else 1, iommu_group=1000 + index,
                        parent='/sys/devices/pci0000:%s' % ('00' if index < 24 else '80'))
    host.pci_device(MGMT, vendor='0x8086', device='0x1521', driver='igb', numa_node=0, iommu_group=30,
                    sriov_totalvfs=7, netdevs=['eno1'])
    host.pci_device('0000:b0:00.0', vendor='0x144d', device='0xa808', pci_class='0x010802', driver='nvme',
                    numa_node=1, iommu_group=62, parent='/sys/devices/pci0000:80')
    for address, node, ifname, group in PFS:
        host.pci_device(address, vendor='0x8086', device='0x1572', subsystem_device='0x0007', driver='i40e', numa_node=node,
                        iommu_group=group, sriov_totalvfs=max(vfs_per_pf, 1), netdevs=[ifname],
                        parent='/sys/devices/pci0000:%s' % ('00' if node == 0 else '80'))
    host.file('/sys/kernel/security/lockdown', '[none] integrity confidentiality')
    host.routes('eno1')
    host.mounts('nodev %s hugetlbfs rw,relatime,pagesize=1024M 0 0' % HUGE_DIR)
    host.mkdir(HUGE_DIR)
    host.file('/etc/os-release', OS_RELEASE)
    host.file('/etc/default/grub', GRUB)
    host.file('/etc/default/irqbalance', IRQBALANCE)
    host.file('/proc/sys/kernel/osrelease', '6.1.0-28-amd64')
    host.file('/proc/1/status', 'Name:\tsystemd\nPid:\t1\nCpus_allowed_list:\t0-127\n')
    host.mkdir('/run/systemd/system')
    host.mkdir('/etc/systemd/system')
    host.file('/var/lib/kubelet/config.yaml', KUBELET_CONFIG)
    host.cmdline(BOOT + ' quiet')
    for name in ('vfio', 'vfio_iommu_type1', 'i40e', 'igb'):
        host.kernel_module(name)
    return host


def answer_commands(commands, host):
    """The commands the modules run on a node, answered like a Debian 12 node would."""
    commands.provide('update-grub', 'grub-mkconfig', 'systemctl', 'mount', 'umount', 'taskset', irqbalance='/usr/sbin/irqbalance')
    commands.on(['/usr/bin/update-grub'])
    commands.on(['/usr/sbin/irqbalance', '--version'], out='irqbalance version 1.9.2\n')
    commands.on(['/usr/bin/systemctl', '**'])
    commands.on(['/usr/bin/taskset', '--pid', '--cpu-list', '*', '1'],
                effect=lambda argv: host.file('/proc/1/status', 'Name:\tsystemd\nPid:\t1\nCpus_allowed_list:\t%s\n' % argv[3]))
    commands.on(['/usr/bin/mount', '**'])
    commands.on(['/usr/bin/umount', '**'])


def hugetlb_write(host, real_write):
    """nr_hugepages writes as the kernel does them: the node's pool and the global sum follow."""
    def write(fs, path, value):
        if path.startswith('/sys/') and path.endswith('/nr_hugepages'):
            size_dir = path.rsplit('/', 2)[-2]
            host.file(path.rsplit('/', 1)[0] + '/free_hugepages', str(value))
            real_write(fs, path, value)
            if '/node/node' in path:
                total = sum(int(host.read('/sys/devices/system/node/node%d/hugepages/%s/nr_hugepages' % (node, size_dir)))
                            for node in (0, 1))
                for name in ('nr_hugepages', 'free_hugepages'):
                    host.file('/sys/kernel/mm/hugepages/%s/%s' % (size_dir, name), str(total))
            return None
        return real_write(fs, path, value)
    return write


def configured_cmdline(host):
    for line in host.read('/etc/default/grub').splitlines():
        if line.startswith('GRUB_CMDLINE_LINUX='):
            return line.split('=', 1)[1].strip().strip('"')
    return ''


def count_lookups(monkeypatch, hostfs_class, run):
    """How many host paths one run resolves (calls of HostFS.path), by top-level directory."""
    counts = {}
    real_path = hostfs_class.path

    def path(fs, name):
        top = '/'.join(name.split('/')[:3])
        counts[top] = counts.get(top, 0) + 1
        return real_path(fs, name)
    monkeypatch.setattr(hostfs_class, 'path', path)
    try:
        run()
    finally:
        monkeypatch.setattr(hostfs_class, 'path', real_path)
    return dict(sorted(counts.items(), key=lambda item: -item[1]), total=sum(counts.values()))


def converge(modules, rows, runner, host, passes=4):
    """Run every module in turn until a whole pass changes nothing: the node as site.yml leaves it (VFs created
    and bound before node_facts looks). Between passes a reboot: /proc/cmdline gets the configured arguments."""
    still_changing = []
    for _pass in range(passes):
        still_changing = []
        for (label, module, args), row in zip(modules, rows):
            if row['error']:
                continue
            row['converge_runs'] += 1
            result = runner(module, args)
            if result.failed:
                row['error'] = 'did not converge: %s' % result.get('msg')
            elif result.changed:
                still_changing.append(label)
        if not still_changing:
            return
        host.cmdline(BOOT + ' ' + configured_cmdline(host) + ' quiet')
        host.file('/proc/1/status', 'Name:\tsystemd\nPid:\t1\nCpus_allowed_list:\t%s\n' % RESERVED)
    for row in rows:
        if row['module'] in still_changing:
            row['error'] = 'still changed after %d passes' % passes


def profile(run, limit=8):
    """The collection's functions that took the most time (cumulative) in one run."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    rows = []
    for (path, line, function), (_calls, ncalls, _tottime, cumtime, _callers) in stats.stats.items():
        if '/plugins/module_utils/' in path or '/plugins/modules/' in path:
            rows.append({'function': '%s:%d(%s)' % (path.split('/plugins/', 1)[1], line, function), 'calls': ncalls,
                         'cumulative_ms': round(cumtime * 1000.0, 1)})
    return sorted(rows, key=lambda row: -row['cumulative_ms'])[:limit]


def in_process(runs, vfs_per_pf=VFS_PER_PF, with_profile=False):
    """Part (a): [{'module', 'converge_runs', 'runs', 'median_ms', 'p95_ms', 'min_ms', 'changed', 'error'}]."""
    benchlib.use_collection()
    import pytest
    from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
    from ansible_collections.nfv.dpdk.tests.unit import fakehost, fakekernel_pci
    from ansible_collections.nfv.dpdk.tests.unit.modulerunner import CommandDouble, ModuleRunner

    rows = []
    monkeypatch = pytest.MonkeyPatch()
    workdir = tempfile.mkdtemp(prefix='nfv-dpdk-bench-')
    try:
        host = build_host(os.path.join(workdir, 'host'), fakehost, vfs_per_pf)
        monkeypatch.setenv('NFV_DPDK_TEST_ROOT', host.root)
        monkeypatch.delenv('SSH_CONNECTION', raising=False)
        commands = CommandDouble()
        commands.install(monkeypatch)
        kernel = fakekernel_pci.FakeKernelPci(host).install(monkeypatch, commands)
        kernel.addresses['eno1'] = [('inet', '192.0.2.10', 24)]
        kernel_systemctl = kernel.systemctl
        # try-restart of a service that may not run: systemd answers 0 whether it ran or not.
        kernel.systemctl = lambda args: (0, '', '') if args[:1] == ['try-restart'] else kernel_systemctl(args)
        monkeypatch.setattr(HostFS, 'write', hugetlb_write(host, HostFS.write))
        answer_commands(commands, host)
        runner = ModuleRunner(monkeypatch)
        # module.warn() of a converged run would pile up in Ansible's process-wide list.
        from ansible.module_utils import basic
        monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg, *a, **k: None)
        modules = [(name + (' include_vfs' if args.get('include_vfs') else ''), importlib.import_module(
            'ansible_collections.nfv.dpdk.plugins.modules.' + name), args) for name, args in module_args(vfs_per_pf)]
        rows = [{'module': label, 'args': args, 'converge_runs': 0, 'runs': 0, 'error': None} for label, _module, args in modules]
        converge(modules, rows, runner, host)
        for (label, module, args), row in zip(modules, rows):
            if row['error']:
                continue
            calls_before = len(commands.calls)
            times = []
            changed = 0
            for _run in range(runs):
                started = time.perf_counter()
                result = runner(module, args)
                times.append((time.perf_counter() - started) * 1000.0)
                changed += int(result.changed)
                if result.failed:
                    row['error'] = result.get('msg')
                    break
            commands_per_run = round((len(commands.calls) - calls_before) / float(max(1, len(times))), 2)
            # One more run counting the host tree lookups (every HostFS access resolves one path).
            lookups = count_lookups(monkeypatch, HostFS, functools.partial(runner, module, args))
            if with_profile:
                row['profile'] = profile(functools.partial(runner, module, args))
            row.update(runs=len(times), changed=changed, hostfs_lookups=lookups, median_ms=round(benchlib.median(times), 2),
                       p95_ms=round(benchlib.percentile(times, 0.95), 2), min_ms=round(min(times), 2),
                       max_ms=round(max(times), 2), commands_per_run=commands_per_run)
            if label.startswith('node_facts'):
                facts = result.get('ansible_facts', {}).get('dpdk_node', {})
                row['seen'] = {'nics': len(facts.get('nics', [])), 'findings': len(facts.get('findings', []))}
    finally:
        monkeypatch.undo()
        subprocess.run(['rm', '-rf', workdir], check=False)
    return rows


def lab_args():
    """Module arguments from lab/site-vars.yml as the dpdk_node role passes them (parsed with the venv's yaml)."""
    benchlib.use_collection()
    import yaml
    with open(os.path.join(benchlib.ROOT, 'lab', 'site-vars.yml')) as handle:
        site = yaml.safe_load(handle)
    return [
        ('node_facts', {}),
        ('node_facts', {'include_vfs': True}),
        ('iommu_grub', {'vendor': site['dpdk_node_iommu_vendor']}),
        ('cpu_isolation', {'isolated_cpus': site['dpdk_node_isolated_cpus'], 'reserved_cpus': site['dpdk_node_reserved_cpus']}),
        ('hugepages', {'pools': site['dpdk_node_hugepages_pools'], 'boot': True}),
        ('sriov_vfs', {'pfs': site['dpdk_node_sriov_pfs']}),
        ('driver_bind', site['dpdk_node_bindings'][0]),
    ]


def ansible_adhoc(inventory, module, args, check):
    argv = [os.path.join(benchlib.VENV_BIN, 'ansible'), 'lab-node', '-i', inventory, '-m', module, '-o']
    if args is not None:
        argv += ['-a', json.dumps(args)]
    if check:
        argv.append('--check')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(benchlib.ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=benchlib.COLLECTIONS)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False, cwd=benchlib.ROOT)
    seconds = time.perf_counter() - started
    output = proc.stdout.strip()
    changed = '"changed": true' in output
    return seconds, proc.returncode, changed, output[-300:]


def over_ssh(runs):
    """Part (b): each module in check mode on the lab node minus the ping baseline."""
    status = benchlib.wait_lab_reachable()
    if not status.get('running') or not status.get('ssh_reachable'):
        raise SystemExit('module_overhead --lab: the lab node is not running or not reachable (lab/labctl up)')
    inventory = status['inventory']
    baseline = []
    for _run in range(runs):
        seconds, rc, _changed, output = ansible_adhoc(inventory, 'ansible.builtin.ping', None, False)
        if rc != 0:
            raise SystemExit('module_overhead --lab: ping failed: %s' % output)
        baseline.append(seconds)
    ping = benchlib.median(baseline)
    rows = [{'module': 'ansible.builtin.ping', 'runs': runs, 'median_s': round(ping, 3), 'p95_s': round(benchlib.percentile(baseline, 0.95), 3),
             'overhead_s': 0.0}]
    for name, args in lab_args():
        times, errors, changed = [], [], 0
        for _run in range(runs):
            seconds, rc, was_changed, output = ansible_adhoc(inventory, 'nfv.dpdk.' + name, args, True)
            times.append(seconds)
            changed += int(was_changed)
            if rc != 0:
                errors.append(output)
        label = 'nfv.dpdk.' + name + (' include_vfs' if args.get('include_vfs') else '')
        rows.append({'module': label, 'args': args, 'runs': runs, 'median_s': round(benchlib.median(times), 3),
                     'p95_s': round(benchlib.percentile(times, 0.95), 3), 'overhead_s': round(benchlib.median(times) - ping, 3),
                     'changed_in_check_mode': changed, 'errors': errors[:2]})
    return rows, status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=30, help='timed runs of each module in-process (default 30)')
    parser.add_argument('--vfs-per-pf', type=int, default=VFS_PER_PF, help='VFs of each of the 4 X710 PFs (1..64, default 64): how time scales')
    parser.add_argument('--profile', action='store_true', help='add the slowest collection functions of one profiled run per module')
    parser.add_argument('--lab', action='store_true', help='also time each module over SSH on the lab node (check mode)')
    parser.add_argument('--lab-runs', type=int, default=5, help='runs per module on the lab node (default 5)')
    parser.add_argument('--no-write', action='store_true', help='print only, write no JSON')
    options = parser.parse_args(argv)
    if not 1 <= options.runs <= 1000 or not 1 <= options.lab_runs <= 50 or not 1 <= options.vfs_per_pf <= 64:
        parser.error('--runs must be 1..1000, --lab-runs 1..50, --vfs-per-pf 1..64')

    data = {'benchmark': 'module_overhead',
            'fake_host': {'cpus': 128, 'sockets': 2, 'cores_per_socket': 32, 'threads_per_core': 2, 'numa_nodes': 2,
                          'pfs': len(PFS), 'vfs_per_pf': options.vfs_per_pf, 'other_pci_functions': 51,
                          'tree_filesystem': subprocess.run(['stat', '-f', '-c', '%T', tempfile.gettempdir()], capture_output=True, text=True,
                                                            check=False).stdout.strip()}}
    machine = benchlib.machine()
    rows = in_process(options.runs, options.vfs_per_pf, options.profile)
    data['in_process'] = rows
    print('(a) in-process, converged, fake host: 128 CPUs / 2 NUMA nodes, %d X710 PFs x %d VFs on vfio-pci; %d runs each'
          % (len(PFS), options.vfs_per_pf, options.runs))
    print(benchlib.table(['module', 'median ms', 'p95 ms', 'min ms', 'changed', 'commands/run', 'paths/run', 'note'],
                         [[row['module'], row.get('median_ms'), row.get('p95_ms'), row.get('min_ms'), row.get('changed'),
                           row.get('commands_per_run'), (row.get('hostfs_lookups') or {}).get('total'), row['error'] or ''] for row in rows]))
    for row in rows:
        if row.get('profile') and (row.get('median_ms') or 0) >= 100:
            top = ['%s %d calls %.0f ms' % (item['function'], item['calls'], item['cumulative_ms']) for item in row['profile'][1:4]]
            print('  %s: %s' % (row['module'], '; '.join(top)))
    if options.lab:
        lab_rows, status = over_ssh(options.lab_runs)
        machine['accel'] = status.get('accel')
        data['over_ssh'] = lab_rows
        print('\n(b) over SSH on the lab node (accel %s), --check, %d runs each, minus the ping baseline' % (status.get('accel'), options.lab_runs))
        print(benchlib.table(['module', 'median s', 'p95 s', 'minus ping s', 'errors'],
                             [[row['module'], row['median_s'], row['p95_s'], row['overhead_s'], len(row.get('errors') or [])] for row in lab_rows]))
    data['machine'] = machine
    if not options.no_write:
        path = benchlib.write_result('module_overhead', data)
        print('\nwrote %s (load average %s -> %s)' % (path, machine['loadavg_start'], data['machine']['loadavg_end']))
    failed = [row['module'] for row in rows if row['error']]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
