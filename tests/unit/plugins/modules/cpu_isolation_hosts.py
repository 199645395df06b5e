# -*- coding: utf-8 -*-
"""Fake hosts for the cpu_isolation module tests.

``node(fake_host, commands, sockets=, cores_per_socket=, threads_per_core=, ...)``
builds a Debian 12 node: CPU topology, ``/etc/os-release``, ``/etc/default/grub``,
``/proc/cmdline``, irqbalance (its config file as Debian 12 ships it and the
program answering ``--version``) and a running systemd, with ``update-grub``,
``systemctl daemon-reload`` and ``systemctl try-restart irqbalance.service``
answered by the command double.
"""

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
RHEL_OS_RELEASE = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n'

GRUB = '''# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 intel_iommu=on iommu=pt"
'''

BOOT = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro console=ttyS0,115200n8 intel_iommu=on iommu=pt quiet'

# /etc/default/irqbalance as irqbalance 1.9.2 installs it on Debian 12 (trimmed).
IRQBALANCE = '''# irqbalance is a daemon process that distributes interrupts across
# CPUs on SMP systems.
#
#IRQBALANCE_ONESHOT=

#
# IRQBALANCE_BANNED_CPULIST
# The CPUs list which allows you to indicate which CPUs should
# be skipped when reblancing IRQs.
#
#IRQBALANCE_BANNED_CPULIST=

#
# IRQBALANCE_ARGS
# Append any args here to the irqbalance daemon as documented in the man
# page.
#
#IRQBALANCE_ARGS=
'''

# irqbalance 1.7 (Debian 11): only the hexadecimal mask is documented.
IRQBALANCE_OLD = '''# IRQBALANCE_BANNED_CPUS
# 64 bit bitmask which allows you to indicate which cpu's should
# be skipped when reblancing irqs.
#IRQBALANCE_BANNED_CPUS=
'''

IRQBALANCE_BIN = '/usr/sbin/irqbalance'
SYSTEMCTL = '/usr/bin/systemctl'
UPDATE_GRUB = '/usr/bin/update-grub'
DAEMON_RELOAD = [SYSTEMCTL, 'daemon-reload']
TRY_RESTART = [SYSTEMCTL, 'try-restart', 'irqbalance.service']
IRQBALANCE_VERSION = [IRQBALANCE_BIN, '--version']

MANAGER = '/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf'
SYSTEM_SLICE = '/etc/systemd/system/system.slice.d/50-nfv-dpdk-cpu-isolation.conf'
USER_SLICE = '/etc/systemd/system/user.slice.d/50-nfv-dpdk-cpu-isolation.conf'


def node(fake_host, commands, sockets=1, cores_per_socket=4, threads_per_core=1, offline=(), numa=True,
         irqbalance=IRQBALANCE, irqbalance_version='irqbalance version 1.9.2', systemd=True, grub=GRUB,
         os_release=OS_RELEASE, update_grub_rc=0):
    """A Debian 12 node; returns fake_host."""
    fake_host.topology(sockets=sockets, cores_per_socket=cores_per_socket, threads_per_core=threads_per_core,
                       offline=offline, numa=numa)
    fake_host.file('/etc/os-release', os_release)
    if grub is not None:
        fake_host.file('/etc/default/grub', grub)
    fake_host.cmdline(BOOT)
    commands.provide('update-grub', 'systemctl')
    commands.on([UPDATE_GRUB], rc=update_grub_rc, err='grub-mkconfig: error: out of disk space' if update_grub_rc else '')
    if systemd:
        fake_host.mkdir('/run/systemd/system')
        commands.on(DAEMON_RELOAD)
        commands.on(TRY_RESTART)
        # systemd's view of the slices is current unless a test says otherwise.
        commands.on([SYSTEMCTL, 'show', '--property=NeedDaemonReload', '--property=LoadState', '*'],
                    out='LoadState=loaded\nNeedDaemonReload=no\n')
        # systemd started (and read system.conf) one second after this machine booted, before any test file.
        systemd_started(commands, 1.0)
    if irqbalance is not None:
        fake_host.file('/etc/default/irqbalance', irqbalance)
    if irqbalance_version is not None:
        commands.provide(irqbalance=IRQBALANCE_BIN)
        commands.on(IRQBALANCE_VERSION, out=irqbalance_version + '\n')
    return fake_host


def changes(before, after):
    """Paths whose state differs between two snapshots, backups (``*~``) left out."""
    paths = set(before) | set(after)
    return sorted(p for p in paths if before.get(p) != after.get(p) and not p.endswith('~'))


def mutating(commands):
    """Commands that change the host (everything but ``irqbalance --version`` and ``systemctl show``)."""
    return [argv for argv in commands.calls if argv != IRQBALANCE_VERSION and argv[:2] != [SYSTEMCTL, 'show']]


TASKSET = '/usr/bin/taskset'
UNITS_LOAD_START = [SYSTEMCTL, 'show', '--property=UnitsLoadStartTimestampMonotonic']


def systemd_started(commands, monotonic_s):
    """systemd's answer for when it started loading units (after reading system.conf), CLOCK_MONOTONIC seconds."""
    commands.on(UNITS_LOAD_START, out='UnitsLoadStartTimestampMonotonic=%d\n' % int(monotonic_s * 1e6))


def reboot(fake_host, commands, pid1):
    """systemd starts afresh now (after every file the tests wrote) with PID 1 on ``pid1``.

    It applied the drop-ins on disk at its start: the slices' cpusets are their AllowedCPUs=.
    """
    import time
    from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet

    simulate_systemd(fake_host, commands, pid1=pid1)
    for name in ('system.slice', 'user.slice'):
        directory = '/etc/systemd/system/%s.d' % name
        for entry in fake_host.listdir(directory):
            for line in fake_host.read(directory + '/' + entry).splitlines():
                if line.startswith('AllowedCPUs='):
                    fake_host.file('/sys/fs/cgroup/%s/cpuset.cpus' % name, CpuSet.parse(line.split('=', 1)[1]).format())
    time.sleep(0.01)
    systemd_started(commands, time.monotonic())


def simulate_systemd(fake_host, commands, pid1='0-15', slices=('system.slice', 'user.slice')):
    """PID 1's affinity and the slices' cpusets, following systemd and taskset like the real ones.

    ``daemon-reload`` applies the last CPUAffinity= of /etc/systemd/system.conf and its
    drop-ins to /proc/1/status and each slice's AllowedCPUs= to its cpuset.cpus. Like
    systemd 252 it changes nothing when a setting is gone: PID 1 keeps its affinity and
    the kernel refuses the empty cpuset.cpus systemd writes for a populated slice.
    ``taskset --pid --cpu-list LIST 1`` sets PID 1's affinity.
    """
    from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet

    def write_pid1(cpu_list):
        fake_host.file('/proc/1/status', 'Name:\tsystemd\nPid:\t1\nCpus_allowed_list:\t%s\n'
                       % CpuSet.parse(cpu_list.replace(' ', ',')).format())

    def last(paths, key):
        value = None
        for path in paths:
            if fake_host.exists(path) and path.endswith('.conf'):
                for line in fake_host.read(path).splitlines():
                    if line.startswith(key + '='):
                        value = line.split('=', 1)[1].strip() or None
        return value

    def reload(argv):
        conf_d = '/etc/systemd/system.conf.d'
        affinity = last(['/etc/systemd/system.conf'] + [conf_d + '/' + n for n in fake_host.listdir(conf_d)], 'CPUAffinity')
        if affinity:
            write_pid1(affinity)
        for name in slices:
            directory = '/etc/systemd/system/%s.d' % name
            allowed = last([directory + '/' + n for n in fake_host.listdir(directory)], 'AllowedCPUs')
            if allowed:
                fake_host.file('/sys/fs/cgroup/%s/cpuset.cpus' % name, CpuSet.parse(allowed).format())

    write_pid1(pid1)
    for name in slices:
        fake_host.file('/sys/fs/cgroup/%s/cpuset.cpus' % name, '')
    commands.provide('taskset')
    commands.on(DAEMON_RELOAD, effect=reload)
    commands.on([TASKSET, '--pid', '--cpu-list', '*', '1'], effect=lambda argv: write_pid1(argv[3]))


def slice_cpus(fake_host, name):
    return fake_host.read('/sys/fs/cgroup/%s/cpuset.cpus' % name).strip()


def pid1_cpus(fake_host):
    for line in fake_host.read('/proc/1/status').splitlines():
        if line.startswith('Cpus_allowed_list:'):
            return line.split(':', 1)[1].strip()
    return None
