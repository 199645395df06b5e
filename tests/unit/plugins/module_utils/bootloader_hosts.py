# -*- coding: utf-8 -*-
"""Fake boot configurations for bootloader and kernel-argument module tests.

``debian_host(fake_host, commands, ...)`` writes os-release, /etc/default/grub and
/proc/cmdline and makes ``update-grub`` answer; ``FakeGrubby`` plays grubby on a
set of BLS entries, including how ``--args``/``--remove-args`` rewrite them, so a
second run sees what the first one changed.
"""

from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelArg

DEBIAN_OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                     'VERSION_ID="12"\nID=debian\n')
UBUNTU_OS_RELEASE = 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
RHEL_OS_RELEASE = ('NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\n'
                   'ID_LIKE="fedora"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n')
ROCKY_OS_RELEASE = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n'
SUSE_OS_RELEASE = 'NAME="SLES"\nID="sles"\nID_LIKE="suse"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\n'

BOOT = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro'

# The file Debian 12 installs, trimmed, with a foreign quoted parameter.
GRUB = '''# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 dyndbg=\\"file x.c +p\\""

# Uncomment to disable graphical terminal
#GRUB_TERMINAL=console
'''


def debian_host(fake_host, commands, grub=GRUB, cmdline=BOOT + ' quiet', os_release=DEBIAN_OS_RELEASE,
                update_grub_rc=0, update_grub_err=''):
    fake_host.file('/etc/os-release', os_release)
    if grub is not None:
        fake_host.file('/etc/default/grub', grub)
    fake_host.cmdline(cmdline)
    fake_host.cpuinfo(cpus=2)
    commands.provide('update-grub', 'grub-mkconfig')
    commands.on(['/usr/bin/update-grub'], rc=update_grub_rc, err=update_grub_err)
    return fake_host


class FakeGrubby:
    """grubby on BLS entries: ``--info=ALL|DEFAULT`` and ``--update-kernel=ALL|<kernel> --args --remove-args``.

    Updates follow grubby's shell implementation: each removal drops the first
    word spelled the same (or with that key when it has no value); each added
    parameter first drops the first word with its key, then all are appended.
    """

    def __init__(self, commands, entries, default=0, rc=0, err=''):
        self.commands = commands
        self.entries = [dict(entry) for entry in entries]
        self.default = default
        self.rc = rc
        self.err = err
        commands.provide('grubby')
        commands.on(['/usr/bin/grubby', '--update-kernel=*', '**'], rc=rc, err=err, effect=self._update)
        self._answer()

    def _info(self, entries):
        blocks = []
        for entry in entries:
            blocks.append('index=%d\nkernel="%s"\nargs="%s"\nroot="UUID=5b12f430"\ninitrd="%s"\ntitle="%s"\n'
                          % (entry['index'], entry['kernel'], entry['args'], entry['kernel'].replace('vmlinuz', 'initramfs'),
                             entry['kernel']))
        return ''.join(blocks)

    def _answer(self):
        indexed = [dict(entry, index=i) for i, entry in enumerate(self.entries)]
        self.commands.on(['/usr/bin/grubby', '--info=ALL'], out=self._info(indexed))
        self.commands.on(['/usr/bin/grubby', '--info=DEFAULT'], out=self._info([indexed[self.default]]))

    @staticmethod
    def _key(word):
        return KernelArg.parse(word).name

    def _update(self, argv):
        if self.rc != 0:
            return
        add, remove = [], []
        which = argv[1][len('--update-kernel='):]
        for option in argv[2:]:
            if option.startswith('--args='):
                add = option[len('--args='):].split()
            elif option.startswith('--remove-args='):
                remove = option[len('--remove-args='):].split()
        for entry in self.entries:
            if which != 'ALL' and entry['kernel'] != which:
                continue
            words = entry['args'].split()
            for arg in remove:
                for i, word in enumerate(words):
                    if word == arg or ('=' not in arg and word.split('=', 1)[0] == arg):
                        del words[i]
                        break
            for arg in add:
                for i, word in enumerate(words):
                    if word.split('=', 1)[0] == arg.split('=', 1)[0]:
                        del words[i]
                        break
            entry['args'] = ' '.join(words + add)
        self._answer()

    def args(self, index=0):
        return self.entries[index]['args']


def rhel_entries(args='ro crashkernel=1G-4G:192M resize=1 rhgb quiet'):
    return [
        {'kernel': '/boot/vmlinuz-5.14.0-427.el9.x86_64', 'args': args + ' $tuned_params'},
        {'kernel': '/boot/vmlinuz-0-rescue-0123456789abcdef', 'args': args},
    ]


RHEL_GRUB = '''GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="$(sed 's, release .*$,,g' /etc/system-release)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M resize=1 rhgb quiet"
GRUB_DISABLE_RECOVERY="true"
GRUB_ENABLE_BLSCFG=true
'''


def rhel_host(fake_host, commands, entries=None, grub=RHEL_GRUB, cmdline=None, os_release=RHEL_OS_RELEASE, rc=0, err=''):
    fake_host.file('/etc/os-release', os_release)
    if grub is not None:
        fake_host.file('/etc/default/grub', grub)
    entries = entries or rhel_entries()
    fake_host.cmdline(cmdline or 'BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0-427.el9.x86_64 root=UUID=5b12f430 ' + entries[0]['args'].replace(' $tuned_params', ''))
    fake_host.cpuinfo(cpus=2)
    return FakeGrubby(commands, entries, rc=rc, err=err)
