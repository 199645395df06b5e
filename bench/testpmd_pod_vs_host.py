#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""testpmd in the pod versus the same testpmd directly on the host: is the containerised DPDK app as fast?

Both runs use the image's launcher (images/testpmd/testpmd-launcher) with the same TESTPMD_*
environment, so testpmd gets the same command line, the same CPUs (``-l`` from TESTPMD_CPUS, and
``taskset`` for the host run), the same ports and the same hugetlbfs. The pod is the Pod the
dpdk_testpmd role builds (``testpmd_pod_manifest`` + ``testpmd_podman_manifest``) played with
``podman kube play --network none`` as the role's podman backend does; the host run is the
launcher under ``taskset``. Rounds alternate host, pod, host, pod, ... so drifting load hits
both; the result is the ratio of median Mpps (goal >= 0.97). Rates come from the collection's
parser (``testpmd_stats``): packets over the span between "start packet forwarding" and
"Telling cores to stop" in the timestamped log (podman's ``--timestamps``; host lines are
stamped by this script as they arrive).

This machine (default): two net_null vdevs, ``--no-pci``, io mode; 2M hugepages reserved for the
run and given back, a hugetlbfs mounted for the run and removed (also on failure or Ctrl-C);
podman with CONTAINERS_CONF=tests/e2e/containers.conf (runc, cgroupfs), as make e2e-podman.
--lab: on the lab node over SSH, the VFs site.yml created and bound to vfio-pci, mac mode,
the node's /dev/hugepages (pages added for the run if too few are free, then given back).
--lab --plan: the node plan's proof pods (nfv.dpdk.node_plan with lab/site-vars-plan.yml, read-only):
one pod per NUMA node with that node's isolated CPU(s), VF and hugepages, all released together by a
start barrier, each sending to the next pod's VF MAC, as molecule/default/numa_proof.yml runs them;
then held at testpmd's prompt after EAL init by the launcher's forward barrier
(TESTPMD_FORWARD_BARRIER) until every pod is initialised, so that all start forwarding at the same
moment however long each one's EAL init took; the host run is one launcher per proof pod under
taskset, released the same way; a run's figure is the sum of its pods' Mpps and counts only when
every pod's verdict passed.

    .venv/bin/python bench/testpmd_pod_vs_host.py [--rounds 5] [--duration 10] [--cpus 0-1]
    .venv/bin/python bench/testpmd_pod_vs_host.py --lab [--rounds 3] [--duration 20]
    .venv/bin/python bench/testpmd_pod_vs_host.py --lab --plan [--rounds 3] [--duration 20]
"""

import argparse
import contextlib
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import benchlib

IMAGE = 'localhost/nfv-dpdk-testpmd:latest'
POD = 'nfv-bench-testpmd'
CONTAINER = POD + '-testpmd'
LAUNCHER = os.path.join(benchlib.ROOT, 'images', 'testpmd', 'testpmd-launcher')
BUILD_CONTEXT = os.path.join(benchlib.ROOT, 'images', 'testpmd', 'build-context.sh')
POOL = '/sys/kernel/mm/hugepages/hugepages-2048kB'
LOCAL_HUGE_DIR = '/run/nfv-dpdk-bench/hugepages'
LAB_HUGE_DIR = '/dev/hugepages'
LAB_LAUNCHER = '/var/tmp/nfv-dpdk-bench-testpmd-launcher'
STARTUP_TIMEOUT = 180


class Interrupted(Exception):
    """SIGTERM/SIGINT: unwind so that every finally block gives back what it took."""


def _interrupt(signum, _frame):
    raise Interrupted('signal %d' % signum)


def stamp():
    """A timestamp as ``podman logs --timestamps`` writes it (UTC, fractional seconds)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


class Local:
    """This machine: commands run here, podman with the project's containers.conf."""

    name = 'local'

    def __init__(self):
        self.podman_env = dict(os.environ, CONTAINERS_CONF=os.environ.get('CONTAINERS_CONF') or benchlib.CONTAINERS_CONF)

    def run(self, argv, timeout=300, podman=False, check=True):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              env=self.podman_env if podman else None)
        if check and proc.returncode != 0:
            raise RuntimeError('%s failed (rc %d): %s' % (' '.join(argv), proc.returncode, (proc.stderr or proc.stdout).strip()[-800:]))
        return proc

    def read(self, path):
        with open(path) as handle:
            return handle.read().strip()

    def write(self, path, value):
        with open(path, 'w') as handle:
            handle.write(str(value))

    def stream(self, argv, env, timeout):
        """Run argv with exactly env, merge stdout/stderr, stamp each line on arrival."""
        return _stream(argv, env, timeout)

    def put(self, text, path):
        with open(path, 'w') as handle:
            handle.write(text)


class Lab(Local):
    """The lab node over SSH (its inventory from lab/labctl); podman with the node's own settings."""

    name = 'lab'

    def __init__(self, inventory):
        super(Lab, self).__init__()
        self.ssh = benchlib.lab_ssh_argv(inventory)
        self.hostname = self.ssh[-1]

    def run(self, argv, timeout=300, podman=False, check=True, stdin=None):
        proc = subprocess.run(self.ssh + [' '.join(shlex.quote(part) for part in argv)], capture_output=True, text=True,
                              timeout=timeout, check=False, input=stdin)
        if check and proc.returncode != 0:
            raise RuntimeError('lab: %s failed (rc %d): %s' % (' '.join(argv), proc.returncode, (proc.stderr or proc.stdout).strip()[-800:]))
        return proc

    def read(self, path):
        return self.run(['cat', path]).stdout.strip()

    def write(self, path, value):
        self.run(['sh', '-c', 'echo %s > %s' % (shlex.quote(str(value)), shlex.quote(path))])

    def stream(self, argv, env, timeout):
        remote = 'env -i ' + ' '.join(shlex.quote('%s=%s' % item) for item in sorted(env.items())) + ' ' + \
            ' '.join(shlex.quote(part) for part in argv)
        return _stream(self.ssh + [remote], None, timeout)

    def put(self, text, path):
        self.run(['sh', '-c', 'cat > %s && chmod 0755 %s' % (shlex.quote(path), shlex.quote(path))], stdin=text)


def _stream(argv, env, timeout):
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
    lines = []
    try:
        for line in proc.stdout:     # ends when testpmd exits (the launcher's timeout bounds it)
            lines.append('%s %s' % (stamp(), line.rstrip('\n')))
            if time.monotonic() - started > timeout:
                proc.kill()
                lines.append('%s bench: killed after %d s' % (stamp(), timeout))
                break
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return rc, '\n'.join(lines)


# -- hugepages and the hugetlbfs --------------------------------------------------------------
class Hugepages:
    """2M pages for the run: added to the pool (per NUMA node on the lab), given back on exit."""

    def __init__(self, target, pages, nodes=None):
        self.target = target
        self.pages = pages          # pages per pool, or {node: pages} (--plan: what each node lacks)
        self.nodes = nodes          # None: the global pool
        self.added = {}
        self.before = {}

    def _pool(self, node):
        return POOL if node is None else '/sys/devices/system/node/node%d/hugepages/hugepages-2048kB' % node

    def free(self):
        return sum(int(self.target.read(self._pool(node) + '/free_hugepages')) for node in (self.nodes or [None]))

    def __enter__(self):
        for node in self.nodes or [None]:
            pages = self.pages.get(node, 0) if isinstance(self.pages, dict) else self.pages
            path = self._pool(node) + '/nr_hugepages'
            before = int(self.target.read(path))
            self.before[node] = before
            if not pages:
                continue        # nothing to add: the pool is not written at all
            self.target.write(path, before + pages)
            self.added[node] = int(self.target.read(path)) - before
        return self

    def __exit__(self, *exc):
        # Give back what was added (not a remembered absolute value: other jobs may change the pool meanwhile).
        for node, added in self.added.items():
            path = self._pool(node) + '/nr_hugepages'
            self.target.write(path, max(0, int(self.target.read(path)) - added))
        return False

    def report(self):
        return {'pages_per_pool': self.pages, 'before': self.before, 'added': self.added}


class HugetlbfsMount:
    """A hugetlbfs mount made for the run (this machine only), unmounted and removed on exit."""

    def __init__(self, path):
        self.path = path
        self.mounted = False
        self.created = []

    def __enter__(self):
        with open('/proc/self/mounts') as handle:
            if any(line.split()[1] == self.path for line in handle if len(line.split()) > 2):
                raise RuntimeError('%s is already mounted: another run of this benchmark? (umount it first)' % self.path)
        path = self.path
        while not os.path.isdir(path):
            self.created.insert(0, path)
            path = os.path.dirname(path)
        for path in self.created:
            os.mkdir(path, 0o700)
        subprocess.run(['mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', self.path], check=True, timeout=60)
        self.mounted = True
        return self

    def __exit__(self, *exc):
        if self.mounted:
            subprocess.run(['umount', self.path], check=False, timeout=60)
        for path in reversed(self.created):
            try:
                os.rmdir(path)
            except OSError:
                pass
        return False


# -- the two kinds of run ----------------------------------------------------------------------
def ensure_image(target):
    """The image the dpdk_testpmd role builds; built the role's way (build-context.sh + podman build) when missing."""
    if target.run(['podman', 'image', 'exists', IMAGE], podman=True, check=False).returncode == 0:
        return 'present'
    if target.name != 'local':
        raise RuntimeError('lab: %s is missing on the node; site.yml builds it (dpdk_testpmd_build_image: true)' % IMAGE)
    context = tempfile.mkdtemp(prefix='nfv-dpdk-bench-image-')
    try:
        target.run([BUILD_CONTEXT, context], timeout=600)
        target.run(['podman', 'build', '--network=none', '--tag', IMAGE, context], podman=True, timeout=600)
    finally:
        subprocess.run(['rm', '-rf', context], check=False)
    return 'built'


def manifests(params, huge_dir, cpus, pci_devices, vfio_groups):
    benchlib.use_collection()
    from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp
    pod = tp.pod_manifest(params)
    return tp.podman_manifest(pod, huge_dir, pci_devices, vfio_groups, cpus)


def launcher_env(podman_pod, huge_dir):
    """The container's environment for the launcher on the host; the hugetlbfs is the host's mount."""
    env = dict((item['name'], item.get('value', '')) for item in podman_pod['spec']['containers'][0]['env'])
    env['TESTPMD_HUGE_DIR'] = huge_dir
    env['PATH'] = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'
    return env


def judge(log, exit_code):
    benchlib.use_collection()
    from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp
    stats = tp.parse_testpmd_log(log)
    verdict = tp.testpmd_verdict(stats, exit_code=exit_code)
    figures = verdict['figures']
    # testpmd's own rate (Rx-pps of its periodic statistics, timed with its TSC): free of log-stamping delays.
    samples = [port.get('rx_pps_avg') for port in stats.get('ports', [])]
    pps_mpps = round(sum(samples) / 1e6, 6) if samples and None not in samples else None
    return {'mpps': figures['mpps'], 'pps_mpps': pps_mpps, 'rx_mpps': figures['rx_mpps'], 'tx_mpps': figures['tx_mpps'], 'duration': figures['duration'],
            'duration_source': figures['duration_source'], 'rx_packets': figures['rx_packets'], 'tx_packets': figures['tx_packets'],
            'drop_ratio': figures['drop_ratio'], 'passed': verdict['passed'], 'reasons': verdict['reasons'][:5],
            'command': (stats.get('pod') or {}).get('command'), 'cpus': (stats.get('pod') or {}).get('cpus'),
            'lcores': [lcore['lcore'] for lcore in stats.get('lcores', [])]}


def host_run(target, env, cpus, duration, launcher):
    started = time.monotonic()
    argv = ['taskset', '-c', cpus, 'sh', launcher]
    if target.name == 'lab':
        # The prepared node confines system.slice and user.slice (SSH sessions) to the
        # housekeeping CPUs; the pod runs in machine.slice, so the host run goes there too.
        argv = ['systemd-run', '--quiet', '--scope', '--slice=machine.slice'] + argv
    rc, log = target.stream(argv, env, duration + STARTUP_TIMEOUT)
    result = judge(log, rc)
    result['wall_s'] = round(time.monotonic() - started, 3)
    return result, log


def pod_run(target, podman_pod, duration, workdir):
    benchlib.use_collection()
    import yaml
    started = time.monotonic()
    kube_file = os.path.join(workdir, 'pod.yaml')
    text = yaml.safe_dump(podman_pod, default_flow_style=False)
    if target.name == 'local':
        target.put(text, kube_file)
    else:
        kube_file = '/var/tmp/nfv-dpdk-bench-pod.yaml'
        target.run(['sh', '-c', 'cat > %s' % kube_file], stdin=text)
    try:
        target.run(['podman', 'kube', 'play', '--replace', '--network', 'none', kube_file], podman=True, timeout=STARTUP_TIMEOUT)
        deadline = time.monotonic() + duration + STARTUP_TIMEOUT
        # Nothing to look at before testpmd's run is over, and each `podman inspect` is
        # a process start that competes with testpmd for the CPUs (under TCG visibly:
        # the host run has no such observer).
        time.sleep(duration)
        state = {}
        while time.monotonic() < deadline:
            proc = target.run(['podman', 'container', 'inspect', CONTAINER], podman=True, check=False)
            if proc.returncode == 0:
                state = json.loads(proc.stdout)[0]['State']
                if state.get('Status') in ('exited', 'stopped'):
                    break
            time.sleep(1)
        else:
            raise RuntimeError('the pod did not finish in %d s' % (duration + STARTUP_TIMEOUT))
        log = target.run(['sh', '-c', 'podman logs --timestamps %s 2>&1' % CONTAINER], podman=True).stdout
        result = judge(log, state.get('ExitCode'))
    finally:
        target.run(['podman', 'kube', 'down', kube_file], podman=True, check=False, timeout=120)
        target.run(['podman', 'pod', 'rm', '--force', '--ignore', POD], podman=True, check=False, timeout=120)
        if target.name == 'local':
            os.unlink(kube_file)
        else:
            target.run(['rm', '-f', kube_file], check=False)
    result['wall_s'] = round(time.monotonic() - started, 3)
    return result, log


# -- --plan: the pods the node plan decides ---------------------------------------------------------
# One pod per NUMA node with that node's isolated CPU(s), VF and hugepages, all released together by a
# start barrier, each sending to the next pod's VF MAC: what molecule/default/numa_proof.yml runs
# through the dpdk_testpmd role (roles/dpdk_testpmd/tasks/numa_manifests.yml, podman_numa.yml).
PLAN_VARS = os.path.join(benchlib.ROOT, 'lab', 'site-vars-plan.yml')
PLAN_BARRIER_DIR = '/run/nfv-dpdk/%s-numa-start' % POD            # as the role names it: <name>-numa-start
PLAN_HOST_BARRIER_DIR = '/run/nfv-dpdk/nfv-bench-host-numa%d-start'
PLAN_KUBE_FILE = '/var/tmp/nfv-dpdk-bench-pod-numa%d.yaml'
PLAN_WAIT_FOR_CPUSET_S = 120                                       # what podman_numa.yml passes
# The role's defaults for what numa_manifests.yml takes from dpdk_testpmd_* (roles/dpdk_testpmd/defaults/main.yml).
ROLE_MEMORY = '1Gi'
ROLE_SRIOV_RESOURCE = 'intel.com/intel_sriov_dpdk'
ROLE_STATS_PERIOD = 1
ROLE_TOTAL_NUM_MBUFS = 16384
ROLE_STARTUP_TIMEOUT = 180


def plan_module_args():
    """lab/site-vars-plan.yml's ``dpdk_node_plan`` combined with ``nics: dpdk_node_plan_nics``, as numa_proof.yml passes it."""
    benchlib.use_collection()
    import yaml
    with open(PLAN_VARS) as handle:
        site = yaml.safe_load(handle)
    args = dict(site['dpdk_node_plan'])
    args['nics'] = list(site['dpdk_node_plan_nics'])
    return args


def read_node_plan(inventory):
    """Run nfv.dpdk.node_plan on the lab node (ad hoc, the project's ansible.cfg and collections); its result.

    The module only reads (its documentation says so and it always returns changed false): a changed or
    failed result stops the benchmark before anything is started on the node."""
    args = plan_module_args()
    argv = [os.path.join(benchlib.VENV_BIN, 'ansible'), 'dpdk_nodes', '-i', inventory, '-m', 'nfv.dpdk.node_plan', '-a', json.dumps(args)]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(benchlib.ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=benchlib.COLLECTIONS,
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env, cwd=benchlib.ROOT)
    try:
        hosts = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']
    except (ValueError, KeyError, IndexError, TypeError):
        raise SystemExit('testpmd_pod_vs_host --plan: nfv.dpdk.node_plan gave no result (rc %d): %s' % (
            proc.returncode, (proc.stderr or proc.stdout).strip()[-800:]))
    if len(hosts) != 1:
        raise SystemExit('testpmd_pod_vs_host --plan: the inventory %s has %d hosts in dpdk_nodes, expected the one lab node' % (inventory, len(hosts)))
    host, result = next(iter(hosts.items()))
    if result.get('changed') is not False:
        raise SystemExit('testpmd_pod_vs_host --plan: nfv.dpdk.node_plan reported changed=%r on %s: it is not read-only, stopping' % (
            result.get('changed'), host))
    if result.get('failed') or result.get('unreachable') or proc.returncode != 0:
        raise SystemExit('testpmd_pod_vs_host --plan: nfv.dpdk.node_plan failed on %s (rc %d): %s' % (host, proc.returncode, result.get('msg')))
    if not result.get('proof_pods'):
        raise SystemExit('testpmd_pod_vs_host --plan: the node plan has no proof_pods (summary: %s)' % result.get('summary'))
    return {'host': host, 'module_args': args, 'changed': result['changed'], 'proof_pods': result['proof_pods'],
            'isolated_cpus': result.get('isolated_cpus'), 'reserved_cpus': result.get('reserved_cpus'), 'aligned': result.get('aligned'),
            'summary': result.get('summary'), 'warnings': result.get('warnings', [])}


def vf_facts(target, vf):
    """What the node says about one VF: driver, IOMMU group, NUMA node, PF, VF index and the MAC the PF has set for it."""
    device = '/sys/bus/pci/devices/' + vf
    facts = {'pci': vf}
    for key, name in (('driver', 'driver'), ('iommu_group', 'iommu_group'), ('pf', 'physfn')):
        proc = target.run(['readlink', device + '/' + name], check=False)
        facts[key] = os.path.basename(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None
    proc = target.run(['cat', device + '/numa_node'], check=False)
    facts['numa_node'] = int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip().lstrip('-').isdigit() else None
    facts['vf_index'] = facts['pf_netdev'] = facts['mac'] = None
    if facts['pf']:
        pf = '/sys/bus/pci/devices/' + facts['pf']
        links = target.run(['find', pf + '/', '-maxdepth', '1', '-name', 'virtfn*', '-printf', '%f %l\\n'], check=False).stdout.split('\n')
        for line in links:
            name, _sep, link = line.strip().partition(' ')
            if link and os.path.basename(link) == vf:
                facts['vf_index'] = int(name[len('virtfn'):])
        netdevs = target.run(['ls', pf + '/net'], check=False).stdout.split()
        facts['pf_netdev'] = netdevs[0] if len(netdevs) == 1 else None
    if facts['pf_netdev'] and facts['vf_index'] is not None:
        # The VF is on vfio-pci (no netdev of its own): its MAC is the one the PF holds for it (ip link's vf list).
        links = json.loads(target.run(['ip', '-j', 'link', 'show', 'dev', facts['pf_netdev']]).stdout or '[]')
        for entry in (links[0].get('vfinfo_list') or []) if links else []:
            if entry.get('vf') == facts['vf_index']:
                facts['mac'] = (entry.get('address') or entry.get('mac') or '').lower() or None
    return facts


def check_plan_vfs(proof_pods, vfs):
    """Every proof pod's VF on vfio-pci with an IOMMU group, on the pod's NUMA node, with a MAC: else SystemExit naming it."""
    problems = []
    for pod in proof_pods:
        for vf in pod['pci_devices']:
            facts = vfs.get(vf)
            if not facts or facts['driver'] != 'vfio-pci' or not facts['iommu_group']:
                problems.append('%s (numa%s) is on %s with IOMMU group %s, not vfio-pci with a group' % (
                    vf, pod['numa_node'], (facts or {}).get('driver'), (facts or {}).get('iommu_group')))
            elif facts['numa_node'] != int(pod['numa_node']):
                problems.append('%s sits on NUMA node %s, the plan puts it in the numa%s pod' % (vf, facts['numa_node'], pod['numa_node']))
            elif not facts['mac']:
                problems.append('%s: no MAC for VF %s in `ip -j link show %s`' % (vf, facts['vf_index'], facts['pf_netdev']))
    if problems:
        raise SystemExit('testpmd_pod_vs_host --plan: the node does not hold the proof pods\' VFs as planned (run site.yml first): '
                         + '; '.join(problems))


def plan_pods(proof_pods, real_macs, duration, vfio_groups, huge_dir=LAB_HUGE_DIR):
    """One entry per proof pod: its params (what numa_manifests.yml passes to testpmd_pod_manifest), its podman Pod
    (podman_podman_manifest as podman_numa.yml calls it) and its host launcher environment.

    ``real_macs`` maps each VF to the MAC it has on the node: pod i sends to the VFs of pod i+1 (the last to the
    first), with those MACs rather than the plan's ``macs``, which are the MACs the plan would set and the node,
    converged with lab/site-vars.yml, does not have."""
    benchlib.use_collection()
    from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp
    if len(set(int(pod['numa_node']) for pod in proof_pods)) != len(proof_pods):
        raise SystemExit('testpmd_pod_vs_host --plan: the proof pods name one NUMA node twice: %s' % [pod['numa_node'] for pod in proof_pods])
    sizes = [str(pod.get('hugepage_size')) for pod in proof_pods]
    if any(size != '2M' for size in sizes):
        raise SystemExit('testpmd_pod_vs_host --plan: the proof pods use hugepage_size %s; this benchmark adds 2M pages and uses %s (2M): '
                         'plan 2M pages (lab/site-vars-plan.yml hugepage_size: 2M)' % (', '.join(sizes), huge_dir))
    entries = []
    for index, pod in enumerate(proof_pods):
        node = int(pod['numa_node'])
        peer = proof_pods[(index + 1) % len(proof_pods)]
        peer_macs = [real_macs[vf] for vf in peer['pci_devices']][:len(pod['pci_devices'])]
        params = {
            'name': '%s-numa%d' % (POD, node), 'name_suffix': '-numa%d' % node, 'node_name': None, 'namespace': 'default',
            'image': IMAGE, 'image_pull_policy': 'IfNotPresent', 'cpuset': str(pod['cpus']), 'numa_node': node, 'memory': ROLE_MEMORY,
            'hugepage_size': '2Mi', 'hugepages': pod['hugepages'], 'sriov_resource': pod.get('resource') or ROLE_SRIOV_RESOURCE,
            'sriov_count': len(pod['pci_devices']), 'node_selector': {}, 'forward_mode': 'mac', 'duration': duration,
            'stats_period': ROLE_STATS_PERIOD, 'eth_peers': peer_macs, 'tx_first': True, 'total_num_mbufs': ROLE_TOTAL_NUM_MBUFS,
            'extra_eal_args': [], 'extra_testpmd_args': [], 'labels': {'nfv.dpdk/numa-node': str(node)},
            'start_barrier_dir': PLAN_BARRIER_DIR, 'start_timeout': ROLE_STARTUP_TIMEOUT,
        }
        manifest = tp.pod_manifest(params)
        groups = [vfio_groups[vf] for vf in pod['pci_devices']]
        podman_pod = tp.podman_manifest(manifest, huge_dir, pod['pci_devices'], groups, str(pod['cpus']), PLAN_WAIT_FOR_CPUSET_S)
        env = launcher_env(podman_pod, huge_dir)
        # The pod sees the barrier directory at tp.START_BARRIER_MOUNT; the host process gets a directory of its own, since the
        # launcher names its ready file after the hostname, which is the node's for every host process.
        host_barrier_dir = PLAN_HOST_BARRIER_DIR % node
        env['TESTPMD_START_BARRIER'] = host_barrier_dir + '/go'
        env['TESTPMD_FORWARD_BARRIER'] = host_barrier_dir + '/forward'
        entries.append({'numa_node': node, 'cpus': str(pod['cpus']), 'pci_devices': list(pod['pci_devices']),
                        'planned_peer_macs': list(peer.get('macs', []))[:len(pod['pci_devices'])], 'peer_macs': peer_macs,
                        'params': params, 'podman_manifest': podman_pod, 'container': params['name'] + '-testpmd',
                        'kube_file': PLAN_KUBE_FILE % node, 'host_env': env, 'host_barrier_dir': host_barrier_dir,
                        'hugepages_pages': tp.quantity_bytes('hugepages', pod['hugepages']) // (2 * 1024 ** 2)})
    return entries


def host_argv(pod, launcher):
    """The host process of one proof pod: in machine.slice (where the pods run; the prepared node confines system.slice
    and user.slice to the housekeeping CPUs), its scope's cgroup pinned to the pod's CPUs and NUMA node as podman update
    pins the pod's container (so that the launcher's cpuset wait, TESTPMD_WAIT_CPUSET_S, sees the same), under taskset."""
    return ['systemd-run', '--quiet', '--scope', '--slice=machine.slice', '-p', 'AllowedCPUs=' + pod['cpus'],
            '-p', 'AllowedMemoryNodes=%d' % pod['numa_node'], 'taskset', '-c', pod['cpus'], 'sh', launcher]


def wait_ready(target, directories, seconds, alive, suffix='.ready'):
    """Until every directory holds a launcher's <hostname><suffix> (.ready at the start barrier, .initialised at the
    forward barrier; bounded, and only while alive() says a process still runs); the directories still without one."""
    deadline = time.monotonic() + seconds
    waiting = list(directories)
    while waiting and time.monotonic() < deadline and alive():
        found = target.run(['find'] + waiting + ['-maxdepth', '1', '-name', '*' + suffix], check=False).stdout.split()
        waiting = [directory for directory in waiting if not any(os.path.dirname(path) == directory for path in found)]
        if waiting:
            time.sleep(1)
    return waiting


def wait_ready_names(target, directory, names, seconds, suffix='.ready'):
    """Until <directory>/<name><suffix> exists for every name (bounded); the names still missing."""
    deadline = time.monotonic() + seconds
    missing = list(names)
    while missing and time.monotonic() < deadline:
        found = target.run(['find', directory, '-maxdepth', '1', '-name', '*' + suffix], check=False).stdout.split()
        missing = [name for name in missing if '%s/%s%s' % (directory, name, suffix) not in found]
        if missing:
            time.sleep(1)
    return missing


def combine(pods_results):
    """One run's figure: the sum of the pods' Mpps; it counts only when every pod's verdict passed."""
    def total(key):
        values = [item[key] for item in pods_results]
        return round(sum(values), 6) if values and None not in values else None
    reasons = ['numa%s: %s' % (item['numa_node'], reason) for item in pods_results for reason in item['reasons']]
    durations = [item['duration'] for item in pods_results if item['duration'] is not None]
    return {'mpps': total('mpps'), 'pps_mpps': total('pps_mpps'), 'rx_mpps': total('rx_mpps'), 'tx_mpps': total('tx_mpps'),
            'duration': min(durations) if durations else None,
            'duration_source': ','.join(sorted(set(str(item['duration_source']) for item in pods_results))),
            'rx_packets': total('rx_packets'), 'tx_packets': total('tx_packets'),
            'passed': bool(pods_results) and all(item['passed'] for item in pods_results), 'reasons': reasons[:5],
            'command': [item['command'] for item in pods_results], 'pods': pods_results}


def launcher_outputs(target):
    """The launcher's testpmd output files in the node's /tmp (nfv-dpdk-testpmd.<pid>.out)."""
    proc = target.run(['find', '/tmp', '-maxdepth', '1', '-name', 'nfv-dpdk-testpmd.*.out'], check=False)
    return set(proc.stdout.split())


def plan_host_run(target, pods, duration, launcher):
    """All host processes started at once, released together through their barrier directories (to EAL init, then to
    forwarding), each judged."""
    import threading
    started = time.monotonic()
    outcomes = [None] * len(pods)
    threads = []
    directories = [pod['host_barrier_dir'] for pod in pods]
    outputs_before = launcher_outputs(target)
    target.run(['rm', '-rf'] + directories)
    target.run(['mkdir', '-p', '-m', '0755'] + directories)
    try:
        for index, pod in enumerate(pods):
            def run(index=index, pod=pod):
                outcomes[index] = target.stream(host_argv(pod, launcher), pod['host_env'], duration + 2 * ROLE_STARTUP_TIMEOUT)
            thread = threading.Thread(target=run, name='host-numa%d' % pod['numa_node'], daemon=True)
            thread.start()
            threads.append(thread)
        alive = lambda: all(thread.is_alive() for thread in threads)  # noqa: E731
        waiting = wait_ready(target, directories, PLAN_WAIT_FOR_CPUSET_S + ROLE_STARTUP_TIMEOUT, alive)
        if waiting:
            raise RuntimeError('host run: no launcher became ready in %s' % ', '.join(waiting))
        target.run(['touch'] + [directory + '/go' for directory in directories])
        waiting = wait_ready(target, directories, ROLE_STARTUP_TIMEOUT, alive, suffix='.initialised')
        if waiting:
            raise RuntimeError('host run: testpmd did not reach its prompt after EAL init in %s' % ', '.join(waiting))
    finally:
        # Released together to forwarding (one touch) once every testpmd is initialised; also when one was not, so that
        # none waits for its timeout.
        target.run(['touch'] + [directory + name for directory in directories for name in ('/go', '/forward')], check=False)
        for thread in threads:
            thread.join(duration + 2 * ROLE_STARTUP_TIMEOUT + 60)
        target.run(['rm', '-rf'] + directories, check=False)
        # The launcher leaves testpmd's output file in /tmp (in a pod it goes with the container; on the host it stays).
        left = sorted(launcher_outputs(target) - outputs_before)
        if left:
            target.run(['rm', '-f'] + left, check=False)
    results, logs = [], []
    for pod, outcome in zip(pods, outcomes):
        rc, log = outcome if outcome else (None, 'bench: the host process of numa%d gave no result' % pod['numa_node'])
        result = judge(log, rc)
        result.update(numa_node=pod['numa_node'], pod_cpus=pod['cpus'], argv=host_argv(pod, launcher))
        results.append(result)
        logs.append('==== host numa%d\n%s' % (pod['numa_node'], log))
    combined = combine(results)
    combined['wall_s'] = round(time.monotonic() - started, 3)
    return combined, '\n'.join(logs)


def plan_pod_run(target, pods, duration):
    """The proof pods played with podman kube play, each pinned with podman update, released together, waited for, judged,
    torn down (also on failure) as roles/dpdk_testpmd/tasks/podman_numa.yml does."""
    benchlib.use_collection()
    import yaml
    started = time.monotonic()
    results, logs = [], []
    try:
        target.run(['rm', '-rf', PLAN_BARRIER_DIR])
        target.run(['mkdir', '-p', '-m', '0755', PLAN_BARRIER_DIR])
        for pod in pods:
            target.run(['tee', pod['kube_file']], stdin=yaml.safe_dump(pod['podman_manifest'], default_flow_style=False))
        for pod in pods:
            target.run(['podman', 'kube', 'play', '--replace', '--network', 'none', pod['kube_file']], podman=True, timeout=STARTUP_TIMEOUT)
        for pod in pods:
            target.run(['podman', 'update', '--cpuset-cpus', pod['cpus'], '--cpuset-mems', str(pod['numa_node']), pod['container']],
                       podman=True, timeout=120)
        missing = wait_ready_names(target, PLAN_BARRIER_DIR, [pod['params']['name'] for pod in pods], PLAN_WAIT_FOR_CPUSET_S + ROLE_STARTUP_TIMEOUT)
        if missing:
            raise RuntimeError('pod run: no ready file from %s in %s' % (', '.join(missing), PLAN_BARRIER_DIR))
        target.run(['touch', PLAN_BARRIER_DIR + '/go'])
        missing = wait_ready_names(target, PLAN_BARRIER_DIR, [pod['params']['name'] for pod in pods], ROLE_STARTUP_TIMEOUT,
                                   suffix='.initialised')
        # Every testpmd is at its prompt after EAL init (or one never got there, and none should wait for its timeout).
        target.run(['touch', PLAN_BARRIER_DIR + '/forward'])
        if missing:
            raise RuntimeError('pod run: testpmd did not reach its prompt after EAL init in %s' % ', '.join(missing))
        # As in pod_run: nothing to look at before testpmd's run is over, and every podman inspect competes for the CPUs.
        time.sleep(duration)
        deadline = time.monotonic() + ROLE_STARTUP_TIMEOUT
        containers = [pod['container'] for pod in pods]
        while True:
            proc = target.run(['podman', 'container', 'inspect'] + containers, podman=True, check=False)
            states = dict((item['Name'], item['State']) for item in json.loads(proc.stdout or '[]')) if proc.returncode == 0 else {}
            if len(states) == len(containers) and all(state.get('Status') in ('exited', 'stopped') for state in states.values()):
                break
            if time.monotonic() > deadline:
                raise RuntimeError('pod run: the pods did not finish in %d s after forwarding was due to end' % ROLE_STARTUP_TIMEOUT)
            time.sleep(1)
        for pod in pods:
            log = target.run(['sh', '-c', 'podman logs --timestamps %s 2>&1' % shlex.quote(pod['container'])], podman=True).stdout
            result = judge(log, states[pod['container']].get('ExitCode'))
            result.update(numa_node=pod['numa_node'], pod_cpus=pod['cpus'])
            results.append(result)
            logs.append('==== pod numa%d\n%s' % (pod['numa_node'], log))
    finally:
        for pod in pods:
            target.run(['podman', 'kube', 'down', pod['kube_file']], podman=True, check=False, timeout=120)
            target.run(['podman', 'pod', 'rm', '--force', '--ignore', pod['params']['name']], podman=True, check=False, timeout=120)
        target.run(['rm', '-rf', PLAN_BARRIER_DIR] + [pod['kube_file'] for pod in pods], check=False)
    combined = combine(results)
    combined['wall_s'] = round(time.monotonic() - started, 3)
    return combined, '\n'.join(logs)


def benchmark_plan(options):
    """--lab --plan: the node plan's proof pods, read from the node, host and pod runs alternating."""
    status = benchlib.wait_lab_reachable()
    if not status.get('running') or not status.get('ssh_reachable'):
        raise SystemExit('testpmd_pod_vs_host --lab --plan: the lab node is not running or not reachable (lab/labctl up)')
    target = Lab(status['inventory'])
    plan = read_node_plan(status['inventory'])
    proof_pods = plan['proof_pods']
    vfs = {}
    for pod in proof_pods:
        for vf in pod['pci_devices']:
            vfs[vf] = vf_facts(target, vf)
    check_plan_vfs(proof_pods, vfs)
    pods = plan_pods(proof_pods, dict((vf, facts['mac']) for vf, facts in vfs.items()), options.duration,
                     dict((vf, facts['iommu_group']) for vf, facts in vfs.items()))
    image = ensure_image(target)
    nodes = [pod['numa_node'] for pod in pods]
    if options.pages is not None:
        pages = dict((node, options.pages) for node in nodes)
    else:
        # What each pod's node lacks for the pod's --socket-mem (the node's pools, by lab/site-vars.yml, may already hold it).
        free = dict((node, int(target.read('/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages' % node)))
                    for node in nodes)
        pages = dict((pod['numa_node'], max(0, pod['hugepages_pages'] - free[pod['numa_node']])) for pod in pods)
    hugepages = Hugepages(target, pages, nodes)
    # /run/nfv-dpdk holds the barrier directories (as the role's); removed at the end if this run created it.
    run_dir = os.path.dirname(PLAN_BARRIER_DIR)
    run_dir_existed = target.run(['test', '-d', run_dir], check=False).returncode == 0
    with open(LAUNCHER) as handle:
        target.put(handle.read(), LAB_LAUNCHER)
    try:
        with hugepages:
            free = hugepages.free()
            rounds = alternate_plan(options, target, pods)
    finally:
        target.run(['rm', '-f', LAB_LAUNCHER], check=False)
        if not run_dir_existed:
            target.run(['rmdir', '--ignore-fail-on-non-empty', run_dir], check=False)
    isolated = target.run(['cat', '/sys/devices/system/cpu/isolated'], check=False).stdout.strip()
    description = {'target': 'lab node %s (accel %s), node plan proof pods' % (target.hostname, status.get('accel')), 'accel': status.get('accel'),
                   'ports': [vf for pod in pods for vf in pod['pci_devices']], 'vfs': vfs, 'kernel_isolated_cpus': isolated,
                   'waited_for_other_runs_s': 0}
    kept = []
    for pod in pods:
        commands = {}
        for item in rounds:
            for result in item.get('pods', []):
                if result['numa_node'] == pod['numa_node'] and result.get('command'):
                    commands.setdefault(item['kind'], result['command'])
        kept.append({'numa_node': pod['numa_node'], 'cpus': pod['cpus'], 'pci_devices': pod['pci_devices'], 'peer_macs': pod['peer_macs'],
                     'planned_peer_macs': pod['planned_peer_macs'], 'params': pod['params'], 'podman_manifest': pod['podman_manifest'],
                     'host_env': pod['host_env'], 'host_argv': host_argv(pod, LAB_LAUNCHER), 'commands': commands})
    return {'mode': 'plan', 'description': description, 'image': image, 'node_plan': plan, 'proof_pods': proof_pods, 'plan_pods': kept,
            'cpus': ' '.join('numa%d:%s' % (pod['numa_node'], pod['cpus']) for pod in pods), 'huge_dir': LAB_HUGE_DIR,
            'hugepages': hugepages.report(), 'free_pages_at_start': free, 'rounds': rounds}


def alternate_plan(options, target, pods):
    """host, pod, host, pod, ... with every proof pod at once: one result per run, the sum of the pods' Mpps."""
    rounds = []
    for number in range(1, options.rounds + 1):
        for kind in ('host', 'pod'):
            if kind == 'host':
                result, log = plan_host_run(target, pods, options.duration, LAB_LAUNCHER)
            else:
                result, log = plan_pod_run(target, pods, options.duration)
            result.update(round=number, kind=kind, loadavg=benchlib.loadavg())
            rounds.append(result)
            print('round %d %-4s %8s Mpps (%s) over %s s (%s; testpmd Rx-pps %s Mpps), passed=%s, wall %.1f s, load %s' % (
                number, kind, result['mpps'], ' + '.join('numa%s %s' % (item['numa_node'], item['mpps']) for item in result['pods']),
                result['duration'], result['duration_source'], result['pps_mpps'], result['passed'], result['wall_s'], result['loadavg']),
                flush=True)
            print('    per pod rx/tx packets: %s' % ', '.join('numa%s %s/%s' % (item['numa_node'], item['rx_packets'], item['tx_packets'])
                                                         for item in result['pods']))
            if not result['passed']:
                print('    not counted: %s' % '; '.join(result['reasons'][:3]))
            if options.keep_logs:
                # Every pod's log in full, of every run: the tail of one would hide the other pod's start and forwarding,
                # and a passed run's logs show when each pod started forwarding.
                handle, path = tempfile.mkstemp(prefix='nfv-dpdk-bench-plan-%s-round%d-' % (kind, number), suffix='.log')
                with os.fdopen(handle, 'w') as out:
                    out.write(log + '\n')
                print('    logs of every pod: %s' % path)
    return rounds


# -- the benchmark -----------------------------------------------------------------------------
def setup(options):
    """(target, params, huge_dir, pci_devices, vfio_groups, hugepages, mount, description)."""
    if options.lab:
        benchlib.use_collection()
        import yaml
        status = benchlib.wait_lab_reachable()
        if not status.get('running') or not status.get('ssh_reachable'):
            raise SystemExit('testpmd_pod_vs_host --lab: the lab node is not running or not reachable (lab/labctl up)')
        with open(os.path.join(benchlib.ROOT, 'lab', 'site-vars.yml')) as handle:
            site = yaml.safe_load(handle)
        target = Lab(status['inventory'])
        devices = site['dpdk_testpmd_podman_pci_devices']
        groups = [os.path.basename(target.run(['readlink', '/sys/bus/pci/devices/%s/iommu_group' % dev]).stdout.strip()) for dev in devices]
        drivers = [os.path.basename(target.run(['readlink', '/sys/bus/pci/devices/%s/driver' % dev]).stdout.strip()) for dev in devices]
        if any(driver != 'vfio-pci' for driver in drivers):
            raise SystemExit('testpmd_pod_vs_host --lab: the VFs %s are on %s, not vfio-pci: run site.yml first' % (devices, drivers))
        params = {'name': POD, 'image': IMAGE, 'sriov_count': len(devices), 'forward_mode': site.get('dpdk_testpmd_forward_mode', 'mac'),
                  'eth_peers': site.get('dpdk_testpmd_eth_peers', []), 'duration': options.duration, 'hugepages': '512Mi'}
        nodes = [0, 1]
        pages = options.pages if options.pages is not None else 128
        return target, params, LAB_HUGE_DIR, devices, groups, Hugepages(target, pages, nodes), None, {
            'target': 'lab node %s (accel %s)' % (target.hostname, status.get('accel')), 'accel': status.get('accel'),
            'ports': devices, 'vfio_groups': groups}
    target = Local()
    params = {'name': POD, 'image': IMAGE, 'vdevs': ['net_null0', 'net_null1'], 'forward_mode': 'io', 'duration': options.duration,
              'hugepages': '512Mi'}
    pages = options.pages if options.pages is not None else 256
    return target, params, LOCAL_HUGE_DIR, [], [], Hugepages(target, pages), HugetlbfsMount(LOCAL_HUGE_DIR), {
        'target': 'this machine', 'accel': None, 'ports': params['vdevs']}


def ancestors():
    """This process and its parents (a ``timeout``/shell wrapper that started this script is not another run)."""
    pids, pid = set(), os.getpid()
    for _level in range(64):
        pids.add(pid)
        try:
            with open('/proc/%d/stat' % pid) as handle:
                pid = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
    return pids


def wait_for_other_dpdk_runs(minutes):
    """Wait (bounded) while another testpmd or the podman e2e runs here: they compete for the same CPUs, and the e2e
    restores the hugepage pool to an absolute count, which would keep pages this run added (or take pages it holds)."""
    started = time.monotonic()
    while True:
        proc = subprocess.run(['pgrep', '-af', 'tests/e2e/podman.yml|dpdk-testpmd|testpmd_pod_vs_host'], capture_output=True, text=True,
                              check=False)
        mine = ancestors()
        others = [line for line in proc.stdout.splitlines() if int(line.split(' ', 1)[0]) not in mine]
        if not others:
            return round(time.monotonic() - started, 1)
        if time.monotonic() - started > minutes * 60:
            raise SystemExit('testpmd_pod_vs_host: still busy after %d min: %s' % (minutes, others[0][:150]))
        print('testpmd_pod_vs_host: waiting for %s' % others[0][:150], flush=True)
        time.sleep(15)


def benchmark(options):
    waited = wait_for_other_dpdk_runs(options.wait) if not options.lab else 0
    target, params, huge_dir, devices, groups, hugepages, mount, description = setup(options)
    description['waited_for_other_runs_s'] = waited
    image = ensure_image(target)
    podman_pod = manifests(params, huge_dir, options.cpus, devices, groups)
    env = launcher_env(podman_pod, huge_dir)
    launcher = LAUNCHER
    if target.name == 'lab':
        with open(LAUNCHER) as handle:
            target.put(handle.read(), LAB_LAUNCHER)
        launcher = LAB_LAUNCHER
    workdir = tempfile.mkdtemp(prefix='nfv-dpdk-bench-pod-')
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(hugepages)
            if mount is not None:
                stack.enter_context(mount)
            free = hugepages.free()
            rounds = alternate(options, target, env, launcher, podman_pod, workdir)
    finally:
        subprocess.run(['rm', '-rf', workdir], check=False)
        if target.name == 'lab':
            target.run(['rm', '-f', LAB_LAUNCHER], check=False)
    return {'mode': target.name, 'description': description, 'image': image, 'params': params, 'cpus': options.cpus, 'huge_dir': huge_dir,
            'hugepages': hugepages.report(), 'free_pages_at_start': free, 'podman_manifest': podman_pod, 'host_env': env, 'rounds': rounds}


def alternate(options, target, env, launcher, podman_pod, workdir):
    """host, pod, host, pod, ...: one result per run."""
    rounds = []
    for number in range(1, options.rounds + 1):
        for kind in ('host', 'pod'):
            if kind == 'host':
                result, log = host_run(target, env, options.cpus, options.duration, launcher)
            else:
                result, log = pod_run(target, podman_pod, options.duration, workdir)
            result.update(round=number, kind=kind, loadavg=benchlib.loadavg())
            rounds.append(result)
            print('round %d %-4s %8s Mpps over %s s (%s; testpmd Rx-pps %s Mpps), passed=%s, wall %.1f s, load %s' % (
                number, kind, result['mpps'], result['duration'], result['duration_source'], result['pps_mpps'], result['passed'],
                result['wall_s'], result['loadavg']), flush=True)
            if not result['passed']:
                print('    not counted: %s' % '; '.join(result['reasons'][:3]))
                if options.keep_logs:
                    print(log[-3000:])
    return rounds


def summarise(data, goal):
    """Median Mpps per kind with two measures: the role's verdict figure (packets over the log's forwarding
    span, the primary one) and testpmd's own Rx-pps samples (a cross-check free of log-stamping delays)."""
    rounds = data['rounds']
    summary = {}
    for kind in ('host', 'pod'):
        runs = [item for item in rounds if item['kind'] == kind]
        valid = [item for item in runs if item['passed'] and item['mpps'] is not None]
        rates = [item['mpps'] for item in valid]
        pps = [item['pps_mpps'] for item in valid if item.get('pps_mpps') is not None]
        summary[kind] = {'runs': len(runs), 'valid': len(valid), 'median_mpps': benchlib.median(rates),
                         'min_mpps': min(rates) if rates else None, 'max_mpps': max(rates) if rates else None,
                         'median_pps_mpps': benchlib.median(pps), 'median_wall_s': benchlib.median([item['wall_s'] for item in runs])}
    ratios = {}
    for key in ('median_mpps', 'median_pps_mpps'):
        if summary['host'][key] and summary['pod'][key] is not None:
            ratios[key] = round(summary['pod'][key] / summary['host'][key], 4)
    ratio = ratios.get('median_mpps')
    # Each round's pod/host ratio (the runs next to each other in time share most of the load drift).
    pairs = {}
    for item in rounds:
        if item['passed'] and item['mpps']:
            pairs.setdefault(item['round'], {})[item['kind']] = item['mpps']
    paired = [pair['pod'] / pair['host'] for pair in pairs.values() if 'pod' in pair and 'host' in pair]
    summary['paired_ratio_median'] = round(benchlib.median(paired), 4) if paired else None
    summary['paired_ratios'] = [round(value, 4) for value in paired]
    commands = dict((item['kind'], item['command']) for item in rounds if item.get('command'))
    summary.update(ratio=ratio, ratio_testpmd_pps=ratios.get('median_pps_mpps'), goal=goal, passed=ratio is not None and ratio >= goal,
                   commands=commands)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--lab', action='store_true', help='run on the lab node over its VFs (after site.yml)')
    parser.add_argument('--rounds', type=int, default=5, help='host+pod pairs (default 5)')
    parser.add_argument('--duration', type=int, default=None, help='seconds of forwarding per run (default 10, 20 with --lab)')
    parser.add_argument('--plan', action='store_true',
                        help='with --lab: one pod (and one host process) per NUMA node as the node plan\'s proof_pods decide '
                             '(its CPUs, VF, hugepages), all released together, each sending to the next one\'s VF MAC; --cpus is not used')
    parser.add_argument('--cpus', default='0-1', help='CPUs for testpmd in both runs (cpu-list, one CPU or more: with one, EAL runs '
                                                      '--lcores (0,1)@<cpu>; default 0-1)')
    parser.add_argument('--pages', type=int, default=None, help='2M pages to add for the run (default 256 here, 128 per node on the lab; '
                                                                 'with --plan what each proof pod\'s node lacks for its hugepages)')
    parser.add_argument('--goal', type=float, default=0.97, help='minimum pod/host ratio of median Mpps (default 0.97)')
    parser.add_argument('--wait', type=int, default=15, help='minutes to wait while the podman e2e or another testpmd runs here (default 15)')
    parser.add_argument('--keep-logs', action='store_true', help='print the tail of the log of a run that failed (with --plan: write every '
                                                                 'run\'s logs of all pods to a file in the temporary directory)')
    parser.add_argument('--no-write', action='store_true', help='print only, write no JSON')
    options = parser.parse_args(argv)
    if options.duration is None:
        options.duration = 20 if options.lab else 10
    if not 1 <= options.rounds <= 20 or not 2 <= options.duration <= 600 or (options.pages is not None and not 0 <= options.pages <= 2048):
        parser.error('--rounds 1..20, --duration 2..600, --pages 0..2048')
    if options.plan and not options.lab:
        parser.error('--plan needs --lab (the node plan is read from the lab node)')
    if os.geteuid() != 0:
        parser.error('needs root (hugepages, hugetlbfs mount, podman)')

    signal.signal(signal.SIGTERM, _interrupt)
    machine = benchlib.machine()
    try:
        data = benchmark_plan(options) if options.plan else benchmark(options)
    except (Interrupted, KeyboardInterrupt) as exc:
        print('testpmd_pod_vs_host: interrupted (%s); hugepages and mounts given back' % exc, file=sys.stderr)
        return 130
    machine['accel'] = data['description'].get('accel')
    data['summary'] = summarise(data, options.goal)
    data['machine'] = machine
    data['benchmark'] = 'testpmd_pod_vs_host'
    summary = data['summary']
    print('\ntestpmd pod vs host on %s, ports %s, CPUs %s, %d s per run, %d rounds (alternating host, pod)%s' % (
        data['description']['target'], ', '.join(data['description']['ports']), data['cpus'], options.duration, options.rounds,
        '; Mpps of a run = the sum of its pods\'' if options.plan else ''))
    print(benchlib.table(['run', 'valid runs', 'median Mpps', 'min Mpps', 'max Mpps', 'median Mpps (testpmd Rx-pps)', 'median wall s'],
                         [[kind, '%d/%d' % (summary[kind]['valid'], summary[kind]['runs']), summary[kind]['median_mpps'],
                           summary[kind]['min_mpps'], summary[kind]['max_mpps'], summary[kind]['median_pps_mpps'], summary[kind]['median_wall_s']]
                          for kind in ('host', 'pod')]))
    print('pod/host ratio of median Mpps: %s (goal >= %s): %s; by testpmd\'s Rx-pps: %s; median of per-round ratios: %s' % (
        summary['ratio'], options.goal, 'PASS' if summary['passed'] else 'FAIL', summary['ratio_testpmd_pps'], summary['paired_ratio_median']))
    if not options.no_write:
        path = benchlib.write_result('testpmd_pod_vs_host-lab-plan' if options.plan else 'testpmd_pod_vs_host-lab' if options.lab
                                     else 'testpmd_pod_vs_host', data)
        print('wrote %s (load average %s -> %s)' % (path, machine['loadavg_start'], data['machine']['loadavg_end']))
    return 0 if summary['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
