# -*- coding: utf-8 -*-
"""Shared helpers of the nfv.dpdk benchmarks (Python 3 standard library only).

Every benchmark writes one JSON file into bench/results/ with ``machine`` (what ran
it: CPU, cores, memory, kernel, load average before and after, accel of the lab
node, git commit, date, the exact command) and prints a short table.
"""

import datetime
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, 'results')
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
LABCTL = os.path.join(ROOT, 'lab', 'labctl')
CONTAINERS_CONF = os.path.join(ROOT, 'tests', 'e2e', 'containers.conf')


def use_collection():
    """Make ``ansible_collections.nfv.dpdk`` importable (the venv's link to this checkout)."""
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections', 'nfv', 'dpdk')):
        sys.exit('bench: %s/ansible_collections/nfv/dpdk is missing: run make venv first' % COLLECTIONS)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def loadavg():
    try:
        with open('/proc/loadavg') as handle:
            return [float(value) for value in handle.read().split()[:3]]
    except (OSError, ValueError):
        return None


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ''


def _git(*args):
    try:
        return subprocess.run(['git', '-C', ROOT] + list(args), capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine(accel=None, extra=None):
    """What ran the benchmark: the controller machine, the commit, the command."""
    cpu_model = None
    for line in _read('/proc/cpuinfo').splitlines():
        if line.startswith('model name'):
            cpu_model = line.split(':', 1)[1].strip()
            break
    mem_kb = None
    for line in _read('/proc/meminfo').splitlines():
        if line.startswith('MemTotal:'):
            mem_kb = int(line.split()[1])
    dirty = _git('status', '--porcelain', '--untracked-files=no')
    description = {
        'hostname': platform.node(),
        'cpu_model': cpu_model or platform.processor() or None,
        'cores': os.cpu_count(),
        'memory_mib': mem_kb // 1024 if mem_kb else None,
        'kernel': platform.release(),
        'os': _os_name(),
        'python': platform.python_version(),
        'accel': accel,
        'git_commit': _git('rev-parse', 'HEAD'),
        'git_dirty': bool(dirty) if dirty is not None else None,
        'date': utc_now().strftime('%Y-%m-%dT%H:%M:%SZ'),
        'command': command_line(),
        'loadavg_start': loadavg(),
        'note': 'shared 2-core machine: other jobs and a QEMU VM run at the same time; timings are noisy, see loadavg',
    }
    description.update(extra or {})
    return description


def _os_name():
    for line in _read('/etc/os-release').splitlines():
        if line.startswith('PRETTY_NAME='):
            return line.split('=', 1)[1].strip('"')
    return None


def command_line():
    """The exact command, as it can be pasted from the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT + os.sep) else sys.executable
    return ' '.join(shlex.quote(part) for part in [python, script] + sys.argv[1:])


def write_result(name, data):
    """bench/results/<name>-<UTC stamp>.json; returns its path (relative to the repository)."""
    os.makedirs(RESULTS, exist_ok=True)
    data.setdefault('machine', {})['loadavg_end'] = loadavg()
    path = os.path.join(RESULTS, '%s-%s.json' % (name, utc_now().strftime('%Y%m%dT%H%M%SZ')))
    with open(path, 'w') as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.write('\n')
    return os.path.relpath(path, ROOT)


def median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0


def percentile(values, fraction):
    """Nearest-rank percentile (p95: fraction 0.95)."""
    values = sorted(values)
    if not values:
        return None
    rank = max(1, int(math.ceil(fraction * len(values))))
    return values[rank - 1]


def table(headers, rows):
    """Rows as an aligned text table."""
    cells = [[str(header) for header in headers]] + [['' if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        lines.append('  '.join(cell.ljust(width) if index == 0 else cell.rjust(width) for index, (cell, width) in enumerate(zip(row, widths))))
        if number == 0:
            lines.append('  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def lab_status():
    """``lab/labctl status`` as a dict (``{'running': False}`` when the node is not up)."""
    proc = subprocess.run([LABCTL, 'status'], capture_output=True, text=True, timeout=120, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {'running': False, 'error': (proc.stderr or proc.stdout).strip()[-500:]}


def lab_ssh_argv(inventory):
    """ssh to the lab node from its inventory, with timeouts for a loaded TCG guest (labctl's probe gives up after 10 s)."""
    use_collection()
    import yaml
    with open(inventory) as handle:
        hosts = yaml.safe_load(handle)['all']['children']['dpdk_nodes']['hosts']
    variables = next(iter(hosts.values()))
    return (['ssh', '-p', str(variables['ansible_port']), '-i', variables['ansible_ssh_private_key_file'], '-o', 'BatchMode=yes',
             '-o', 'ConnectTimeout=60', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=8'] +
            shlex.split(variables.get('ansible_ssh_common_args', '')) +
            ['%s@%s' % (variables.get('ansible_user', 'root'), variables['ansible_host'])])


def lab_ssh(inventory, command, timeout=180, stdin=None):
    """Run a shell command on the lab node; a CompletedProcess (returncode 255 and the reason on a timeout)."""
    argv = lab_ssh_argv(inventory) + [command]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, input=stdin)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, '', 'ssh timed out after %d s' % timeout)


def wait_lab_reachable(seconds=600):
    """``lab_status()`` once the node answers SSH, polled (bounded). labctl's own probe gives up after 10 s, which a
    loaded TCG guest can exceed: when it says unreachable, an ssh with longer timeouts decides."""
    deadline = time.monotonic() + seconds
    while True:
        status = lab_status()
        if status.get('running') and not status.get('ssh_reachable') and status.get('inventory'):
            if lab_ssh(status['inventory'], 'true', timeout=120).returncode == 0:
                status['ssh_reachable'] = True
        if status.get('running') and status.get('ssh_reachable'):
            return status
        if not status.get('running') or time.monotonic() > deadline:
            return status
        print('bench: the lab node does not answer SSH yet; retrying', flush=True)
        time.sleep(15)


def lab_cache():
    return os.path.abspath(os.environ.get('NFV_DPDK_LAB_CACHE') or os.path.expanduser('~/.cache/nfv-dpdk-lab'))


def _environ_cache(pid):
    try:
        with open('/proc/%s/environ' % pid, 'rb') as handle:
            for item in handle.read().split(b'\0'):
                if item.startswith(b'NFV_DPDK_LAB_CACHE='):
                    return os.path.abspath(item.split(b'=', 1)[1].decode())
    except OSError:
        return None
    return os.path.expanduser('~/.cache/nfv-dpdk-lab')


def busy_lab_users():
    """Other processes that use this lab node: an ansible-playbook/ansible whose command line names this lab's
    cache (its inventory), or molecule run with this lab's NFV_DPDK_LAB_CACHE. Runs against other labs
    (another NFV_DPDK_LAB_CACHE) or other inventories do not count."""
    proc = subprocess.run(['pgrep', '-af', 'molecule|ansible-playbook|ansible '], capture_output=True, text=True, check=False)
    cache = lab_cache()
    mine = set()
    pid = os.getpid()
    while pid > 1 and len(mine) < 64:
        mine.add(pid)
        try:
            with open('/proc/%d/stat' % pid) as handle:
                pid = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    busy = []
    for line in proc.stdout.splitlines():
        pid, _sep, command = line.partition(' ')
        if not pid.isdigit() or int(pid) in mine:
            continue
        if cache + os.sep in command or ('molecule' in command and _environ_cache(pid) == cache):
            busy.append(line)
    return busy


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    def __enter__(self):
        self.started = time.perf_counter()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        return False
