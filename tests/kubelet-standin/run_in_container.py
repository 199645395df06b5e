# -*- coding: utf-8 -*-
"""Run tests/kubelet-standin/test_role.yml in a throw-away systemd container on this machine.

The kubelet_cpu_manager role needs a host with systemd (it stops, starts and watches kubelet.service,
reads its journal). Under TCG emulation the lab VM runs the role's ~155 tasks in 9 minutes or more;
a Debian 12 container booted with systemd runs the same playbook, against the same systemd, at
native speed. The container:

- is built from Debian's packages only (mmdebstrap: systemd, python3, python3-yaml, dbus,
  openssh-server, sudo) and imported into podman as localhost/nfv-dpdk-kubelet-standin-node:<recipe
  hash>, so it is built once per machine and recipe (about 2 minutes) and reused;
- boots /sbin/init with podman's --systemd=always, unprivileged, in the host network namespace, with
  its sshd started only after it was told to listen on 127.0.0.1:<port> (NFV_DPDK_STANDIN_SSH_PORT,
  default 2280) and given a key made for this run: Ansible reaches it over SSH with pipelining, as it
  reaches a real node (the podman connection plugin has no pipelining and costs several podman
  execs per task);
- is removed at the end, also when the playbook fails or this script is interrupted.

After the playbook this script checks, from outside, that the test removed the stand-in and every
file it wrote. Exit code: the playbook's, or 1 when that check or the set-up fails.

    .venv/bin/python tests/kubelet-standin/run_in_container.py [ansible-playbook options...]

podman runs with CONTAINERS_CONF from the environment, or tests/e2e/containers.conf (runc,
cgroupfs: what podman 4.3 needs on the cgroup v1 CI machines).
"""

import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'lab'))
import labctl  # noqa: E402  (the lab's mirror and apt sources: the same packages as the lab image)

SUITE = 'bookworm'
PACKAGES = ['systemd', 'systemd-sysv', 'python3', 'python3-yaml', 'dbus', 'openssh-server', 'sudo']
# ssh starts only when this script has configured it: in the host network namespace the image's
# default sshd would listen on the machine's port 22.
CUSTOMIZE = 'chroot "$1" systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true'
RECIPE_VERSION = 1
IMAGE = 'localhost/nfv-dpdk-kubelet-standin-node'
CONTAINER = 'nfv-dpdk-kubelet-standin-node'
PLAYBOOK = os.path.join(HERE, 'test_role.yml')
BOOT_TIMEOUT = 120
SSH_TIMEOUT = 60


def say(message):
    print('kubelet-standin: %s' % message, flush=True)


class Interrupted(Exception):
    pass


def _interrupt(signum, _frame):
    raise Interrupted('signal %d' % signum)


def podman_env():
    return dict(os.environ, CONTAINERS_CONF=os.environ.get('CONTAINERS_CONF') or os.path.join(ROOT, 'tests', 'e2e', 'containers.conf'))


def podman(*args, timeout=300, check=True, stdin=None):
    proc = subprocess.run(['podman'] + list(args), capture_output=True, text=True, timeout=timeout, check=False, env=podman_env(),
                          input=stdin)
    if check and proc.returncode != 0:
        raise RuntimeError('podman %s failed (rc %d): %s' % (' '.join(args), proc.returncode, (proc.stderr or proc.stdout).strip()[-800:]))
    return proc


def recipe():
    mirror = os.environ.get('NFV_DPDK_LAB_MIRROR', '').rstrip('/')
    if not mirror:
        texts = []
        for path in ['/etc/apt/sources.list'] + sorted(os.path.join('/etc/apt/sources.list.d', name) for name in
                                                       (os.listdir('/etc/apt/sources.list.d') if os.path.isdir('/etc/apt/sources.list.d') else [])):
            try:
                with open(path) as handle:
                    texts.append(handle.read())
            except OSError:
                pass
        mirror = labctl.parse_mirror(texts)
    security = (os.environ.get('NFV_DPDK_LAB_SECURITY_MIRROR') or labctl.DEFAULT_SECURITY_MIRROR).rstrip('/')
    return {'version': RECIPE_VERSION, 'suite': SUITE, 'packages': PACKAGES, 'customize': CUSTOMIZE,
            'sources': labctl.apt_sources(mirror, security, SUITE)}


def ensure_image(spec):
    """The image for this recipe: reused when podman has it, otherwise built with mmdebstrap and imported."""
    tag = '%s:%s' % (IMAGE, hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16])
    if podman('image', 'exists', tag, check=False).returncode == 0:
        say('image %s (cached)' % tag)
        return tag
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='nfv-dpdk-standin-image-') as work:
        rootfs = os.path.join(work, 'rootfs.tar')
        say('building %s: mmdebstrap %s with %s (about 2 minutes)' % (tag, SUITE, ', '.join(PACKAGES)))
        proc = subprocess.run(['mmdebstrap', '--quiet', '--variant=apt', '--include=' + ','.join(PACKAGES),
                               '--customize-hook=' + CUSTOMIZE, SUITE, rootfs] + spec['sources'],
                              capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            raise RuntimeError('mmdebstrap failed (rc %d): %s' % (proc.returncode, (proc.stderr or proc.stdout).strip()[-1500:]))
        podman('import', '--change', 'CMD ["/sbin/init"]', rootfs, tag, timeout=600)
    say('built %s in %.0f s' % (tag, time.monotonic() - started))
    return tag


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def wait_until(what, bound, probe):
    deadline = time.monotonic() + bound
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError('%s: not within %d s' % (what, bound))
        time.sleep(1)


def system_state():
    proc = podman('exec', CONTAINER, 'systemctl', 'is-system-running', check=False, timeout=30)
    state = proc.stdout.strip()
    return state if state in ('running', 'degraded') else None


def start_container(tag, port, public_key):
    podman('rm', '--force', '--ignore', CONTAINER, timeout=120)
    podman('run', '--detach', '--name', CONTAINER, '--systemd=always', '--network', 'host', tag, '/sbin/init')
    state = wait_until('systemd in the container reaching running', BOOT_TIMEOUT, system_state)
    if state == 'degraded':
        failed = podman('exec', CONTAINER, 'systemctl', '--failed', '--no-legend', '--plain', check=False).stdout.strip()
        say('systemd is degraded in the container (the test does not need these units): %s' % failed.replace('\n', '; '))
    setup = ('set -e; mkdir -p /etc/ssh/sshd_config.d /root/.ssh; chmod 0700 /root/.ssh; cat > /root/.ssh/authorized_keys; '
             'chmod 0600 /root/.ssh/authorized_keys; '
             'printf "Port %d\\nListenAddress 127.0.0.1\\nPermitRootLogin prohibit-password\\nPasswordAuthentication no\\n" '
             '> /etc/ssh/sshd_config.d/nfv-dpdk-standin.conf; systemctl start ssh.service' % port)
    podman('exec', '--interactive', CONTAINER, 'sh', '-c', setup, stdin=public_key)


def ssh_argv(key, port):
    return ['ssh', '-p', str(port), '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', 'root@127.0.0.1']


def write_inventory(path, key, port):
    inventory = {'all': {'hosts': {CONTAINER: {
        'ansible_host': '127.0.0.1', 'ansible_port': port, 'ansible_user': 'root', 'ansible_ssh_private_key_file': key,
        'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
        'ansible_python_interpreter': '/usr/bin/python3', 'ansible_pipelining': True}}}}
    with open(path, 'w') as handle:
        json.dump(inventory, handle)


def standin_paths():
    """The paths test_role.yml writes, as it names them (its vars), which must be gone afterwards."""
    import yaml
    with open(PLAYBOOK) as handle:
        play_vars = yaml.safe_load(handle)[0]['vars']
    return [play_vars[name] for name in ('standin_unit', 'standin_lib', 'standin_etc', 'standin_root', 'standin_scratch')]


def left_behind():
    """What of the stand-in is still in the container: its paths, and a failed kubelet.service."""
    paths = standin_paths()
    script = ('for p in %s; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done; '
              '[ "$(systemctl is-failed kubelet.service)" != failed ] || echo "kubelet.service (failed)"') % (
        ' '.join(shlex.quote(path) for path in paths))
    return podman('exec', CONTAINER, 'sh', '-c', script, timeout=60).stdout.splitlines()


def main(argv):
    for tool in ('podman', 'mmdebstrap', 'ssh', 'ssh-keygen'):
        if subprocess.run(['sh', '-c', 'command -v "$1"', 'sh', tool], capture_output=True, check=False).returncode != 0:
            say('%s is missing: make host-deps installs it' % tool)
            return 1
    port = int(os.environ.get('NFV_DPDK_STANDIN_SSH_PORT') or 2280)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='nfv-dpdk-standin-') as work:
        try:
            tag = ensure_image(recipe())
            if not port_is_free(port):
                say('127.0.0.1:%d is in use; choose another port with NFV_DPDK_STANDIN_SSH_PORT' % port)
                return 1
            key = os.path.join(work, 'id_ed25519')
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'nfv-dpdk-standin', '-f', key], check=True, timeout=60)
            with open(key + '.pub') as handle:
                public_key = handle.read()
            start_container(tag, port, public_key)
            wait_until('SSH into the container on 127.0.0.1:%d' % port, SSH_TIMEOUT,
                       lambda: subprocess.run(ssh_argv(key, port) + ['true'], capture_output=True, timeout=30, check=False).returncode == 0)
            say('container %s up in %.0f s (systemd, sshd on 127.0.0.1:%d)' % (CONTAINER, time.monotonic() - started, port))
            inventory = os.path.join(work, 'inventory.json')
            write_inventory(inventory, key, port)
            command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, PLAYBOOK] + argv
            say('running %s' % ' '.join(shlex.quote(part) for part in command))
            rc = subprocess.run(command, check=False).returncode
            if rc != 0:
                say('the playbook failed (rc %d)' % rc)
                return rc
            remaining = left_behind()
            if remaining:
                say('the test left behind: %s' % ', '.join(remaining))
                return 1
            say('the playbook passed and left none of %s behind; %.0f s in all' % (', '.join(standin_paths()), time.monotonic() - started))
            return 0
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            say('set-up failed: %s' % exc)
            return 1
        except (Interrupted, KeyboardInterrupt) as exc:
            say('interrupted (%s)' % exc)
            return 130
        finally:
            podman('rm', '--force', '--time', '5', '--ignore', CONTAINER, check=False, timeout=120)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
