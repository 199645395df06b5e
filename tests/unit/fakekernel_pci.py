# -*- coding: utf-8 -*-
"""A fake kernel for PCI writes: SR-IOV, driver_override, bind/unbind/drivers_probe.

``FakeHost`` only lays out files; this module makes writes behave like Linux:

- ``sriov_numvfs``: creates/removes VF devices (``virtfnN``/``physfn`` links,
  inherited NUMA node, an IOMMU group of their own, the VF device id, bound to
  the VF driver when ``sriov_drivers_autoprobe`` is 1). Non-zero to another
  non-zero raises ``EBUSY``, above ``sriov_totalvfs`` ``ERANGE``, garbage
  ``EINVAL``, a PF without driver ``ENOENT``.
- ``driver_override``: "\\n" (or "") clears it to ``(null)``.
- ``drivers/<drv>/unbind``: removes the ``driver`` link (and the netdevs).
- ``drivers/<drv>/bind`` and ``/sys/bus/pci/drivers_probe``: bind to the
  override driver, else the default driver; ``vfio-pci`` refuses a device whose
  IOMMU group has members bound to other drivers (bridges excepted).

It also answers the commands that talk to the same kernel objects, through the
``commands`` double: ``ip -j link show``, ``ip link set dev PF vf N ...``,
``ip -j addr show``, ``ip -j route get``, ``modprobe`` and ``systemctl``.

Use the ``fake_kernel`` fixture (import it into the test module).
"""

import errno
import json
import os
import re
import shutil

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.tests.unit.fakehost import VF_DEVICE_IDS  # noqa: F401 # pylint: disable=unused-import

# (vendor, device) -> the driver the kernel binds when nothing overrides it.
DEFAULT_DRIVERS = {
    ('8086', '10c9'): 'igb', ('8086', '10ca'): 'igbvf',
    ('8086', '1521'): 'igb', ('8086', '1520'): 'igbvf',
    ('8086', '1572'): 'i40e', ('8086', '1583'): 'i40e', ('8086', '154c'): 'iavf',
    ('8086', '159b'): 'ice', ('8086', '1889'): 'iavf',
    ('15b3', '1017'): 'mlx5_core', ('15b3', '1018'): 'mlx5_core',
    ('15b3', '101d'): 'mlx5_core', ('15b3', '101e'): 'mlx5_core',
    ('1af4', '1000'): 'virtio-pci', ('1af4', '1041'): 'virtio-pci', ('1af4', '1001'): 'virtio-pci',
}

# Drivers that create a network interface on the device when bound.
NETDEV_DRIVERS = ('igb', 'igbvf', 'i40e', 'iavf', 'ice', 'mlx5_core', 'ixgbe', 'ixgbevf')

# Kernel modules modprobe finds, and the PCI drivers they register.
MODULE_DRIVERS = {
    'vfio-pci': 'vfio-pci', 'vfio_pci': 'vfio-pci',
    'uio_pci_generic': 'uio_pci_generic', 'uio-pci-generic': 'uio_pci_generic',
    'igb_uio': 'igb_uio', 'igbvf': 'igbvf', 'iavf': 'iavf', 'vfio': None, 'uio': None,
}

_DRIVER_ATTR = re.compile(r'^/sys/bus/pci/drivers/([^/]+)/(bind|unbind|new_id|remove_id)$')


def _hex(value):
    value = (value or '').strip().lower()
    return value[2:] if value.startswith('0x') else value


def _oserror(code, path):
    return OSError(code, os.strerror(code), path)


class FakeKernelPci:
    """Kernel semantics for PCI sysfs writes below a FakeHost, plus ip/modprobe/systemctl."""

    def __init__(self, host):
        self.host = host
        self.fs = HostFS(host.root)
        self.writes = []            # (host path, value) of every HostFS.write, in order
        self.fail_writes = {}       # host path -> errno: the next write there raises it
        self.no_probe = set()       # addresses no driver will bind (probe fails)
        self.unsupported_vf_attrs = {}  # PF driver -> set of ip-link vf keywords it rejects
        self.addresses = {}         # ifname -> [(family, 'a.b.c.d', prefixlen)]
        self.ssh_route_dev = None   # answer of 'ip route get <client>'
        self.vfinfo = {}            # PF address -> [dict per VF]
        self.saved_netdevs = {}     # address -> interface names while unbound
        self.link_commands = []     # ip link set dev IF up|down, in order
        self.missing_modules = set()
        # systemd's loaded view: unit name -> the file text at the last daemon-reload. None until the
        # first systemctl call, which takes the files on disk as loaded (a host in a steady state).
        self.systemd_loaded = None
        self.daemon_reload_effect = None  # callable run on daemon-reload (a test can "kill" the run there)
        self._next_group = 100
        self._original_write = HostFS.write

    # -- installation ------------------------------------------------------
    def install(self, monkeypatch, commands=None):
        kernel = self

        def write(fs_self, path, value):
            return kernel.write(fs_self, path, value)
        monkeypatch.setattr(HostFS, 'write', write)
        if commands is not None:
            self.attach(commands)
        return self

    def attach(self, commands):
        """Answer ip/modprobe/systemctl through the ``commands`` double (recorded in ``commands.calls``)."""
        commands.provide('ip', 'modprobe', 'systemctl')
        original = commands.run
        kernel = self

        def run(args, **kwargs):
            if isinstance(args, str):
                raise AssertionError('commands must be argument lists, not shell strings: %r' % args)
            argv = [str(a) for a in args]
            tool = os.path.basename(argv[0])
            handler = {'ip': kernel.ip, 'modprobe': kernel.modprobe, 'systemctl': kernel.systemctl}.get(tool)
            if handler is None:
                return original(args, **kwargs)
            commands.calls.append(argv)
            return handler(argv[1:])
        commands.run = run
        self.commands = commands
        return self

    # -- sysfs helpers -----------------------------------------------------------
    def devdir(self, address):
        """Host path of a device's directory (resolved)."""
        return self.fs.realpath('/sys/bus/pci/devices/%s' % address)

    def driver_of(self, address):
        return self.fs.link_name('/sys/bus/pci/devices/%s/driver' % address)

    def override_of(self, address):
        value = self.fs.read('/sys/bus/pci/devices/%s/driver_override' % address)
        return None if value in (None, '', '(null)') else value

    def _ids(self, address):
        base = '/sys/bus/pci/devices/%s/' % address
        return _hex(self.fs.read(base + 'vendor')), _hex(self.fs.read(base + 'device'))

    def _plain_write(self, fs_self, path, value):
        self._original_write(fs_self, path, value)

    # -- the write dispatcher -------------------------------------------------------
    def write(self, fs_self, path, value):
        value = str(value)
        self.writes.append((path, value))
        code = self.fail_writes.pop(path, None)
        if code is not None:
            raise _oserror(code, path)
        if path == '/sys/bus/pci/drivers_probe':
            return self._drivers_probe(path, value)
        match = _DRIVER_ATTR.match(path)
        if match:
            driver, attr = match.groups()
            if not self.fs.isdir('/sys/bus/pci/drivers/%s' % driver):
                raise _oserror(errno.ENOENT, path)
            if attr == 'unbind':
                return self._unbind(path, driver, value.strip())
            if attr == 'bind':
                return self._bind(path, driver, value.strip())
            return None
        name = os.path.basename(path)
        if name == 'sriov_numvfs':
            return self._sriov_numvfs(path, value)
        if name == 'driver_override':
            return self._driver_override(fs_self, path, value)
        if name == 'sriov_drivers_autoprobe':
            if value.strip() not in ('0', '1'):
                raise _oserror(errno.EINVAL, path)
        return self._plain_write(fs_self, path, value)

    # -- driver_override, bind, unbind, drivers_probe ---------------------------------
    def _driver_override(self, fs_self, path, value):
        if len(value) >= 4096:
            raise _oserror(errno.EINVAL, path)
        text = value.split('\n', 1)[0]
        self._plain_write(fs_self, path, text if text else '(null)')

    def _unbind(self, path, driver, address):
        if not self.fs.exists('/sys/bus/pci/devices/%s' % address) or self.driver_of(address) != driver:
            raise _oserror(errno.ENODEV, path)
        self.detach(address)

    def detach(self, address):
        """Unbind whatever driver ``address`` has (the kernel side of unbind)."""
        driver = self.driver_of(address)
        devdir = self.devdir(address)
        netdevs = self.fs.listdir(devdir + '/net')
        if netdevs:
            self.saved_netdevs[address] = netdevs
            for ifname in netdevs:
                os.unlink(self.host.path('/sys/class/net/' + ifname))
            shutil.rmtree(self.host.path(devdir + '/net'))
        if driver:
            os.unlink(self.host.path(devdir + '/driver'))
            link = self.host.path('/sys/bus/pci/drivers/%s/%s' % (driver, address))
            if os.path.lexists(link):
                os.unlink(link)

    def _matches(self, driver, address):
        override = self.override_of(address)
        if override is not None:
            return override == driver
        return DEFAULT_DRIVERS.get(self._ids(address)) == driver

    def vfio_viable(self, address):
        """vfio: every other member of the IOMMU group is unbound, on vfio-pci/pci-stub, or a bridge."""
        group = self.fs.link_name('/sys/bus/pci/devices/%s/iommu_group' % address)
        if group is None:
            return self.fs.read('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode') in ('Y', '1')
        for member in self.fs.listdir('/sys/kernel/iommu_groups/%s/devices' % group):
            if member == address:
                continue
            if _hex(self.fs.read('/sys/bus/pci/devices/%s/class' % member)).startswith('0604'):
                continue
            if self.driver_of(member) not in (None, 'vfio-pci', 'pci-stub'):
                return False
        return True

    def attach_driver(self, address, driver):
        """Probe ``driver`` for ``address``; True when it bound."""
        if address in self.no_probe or not self.fs.isdir('/sys/bus/pci/drivers/%s' % driver):
            return False
        if driver == 'vfio-pci' and not self.vfio_viable(address):
            return False
        devdir = self.devdir(address)
        self.host.link(devdir + '/driver', '/sys/bus/pci/drivers/%s' % driver)
        self.host.link('/sys/bus/pci/drivers/%s/%s' % (driver, address), devdir)
        if driver in NETDEV_DRIVERS:
            for ifname in self.saved_netdevs.pop(address, []):
                self.host.netdev(ifname, device_path=devdir, operstate='down')
        return True

    def _bind(self, path, driver, address):
        if not self.fs.exists('/sys/bus/pci/devices/%s' % address):
            raise _oserror(errno.ENODEV, path)
        if self.driver_of(address):
            raise _oserror(errno.EBUSY, path)
        if not self._matches(driver, address) or not self.attach_driver(address, driver):
            raise _oserror(errno.ENODEV if not self._matches(driver, address) else errno.EINVAL, path)

    def _drivers_probe(self, path, value):
        address = value.strip()
        if not self.fs.exists('/sys/bus/pci/devices/%s' % address):
            raise _oserror(errno.ENODEV, path)
        self.probe(address)

    def probe(self, address):
        if self.driver_of(address):
            return
        driver = self.override_of(address) or DEFAULT_DRIVERS.get(self._ids(address))
        if driver:
            if driver not in self.missing_modules and driver in DEFAULT_DRIVERS.values():
                self.host.pci_driver(driver)      # udev loads the default driver's module
            self.attach_driver(address, driver)

    # -- SR-IOV ---------------------------------------------------------------------
    def _sriov_numvfs(self, path, value):
        devdir = self.fs.realpath(os.path.dirname(path))
        address = os.path.basename(devdir)
        try:
            wanted = int(value.strip(), 0)
        except ValueError:
            raise _oserror(errno.EINVAL, path)
        if wanted < 0 or wanted > 0xffff:
            raise _oserror(errno.EINVAL, path)
        total = self.fs.read_int(devdir + '/sriov_totalvfs', 0)
        current = self.fs.read_int(devdir + '/sriov_numvfs', 0)
        if wanted > total:
            raise _oserror(errno.ERANGE, path)
        if wanted == current:
            return
        if not self.driver_of(address):
            raise _oserror(errno.ENOENT, path)
        if wanted == 0:
            self._remove_vfs(address)
        elif current:
            raise _oserror(errno.EBUSY, path)
        else:
            self._create_vfs(address, wanted)

    def sriov_capability_position(self, pf_address):
        """Offset of the SR-IOV extended capability in the PF's config space (the kernel's pci_find_ext_capability)."""
        with open(self.host.path(self.devdir(pf_address) + '/config'), 'rb') as handle:
            data = handle.read()
        position = 0x100
        for _hop in range(64):
            header = int.from_bytes(data[position:position + 4], 'little')
            if header & 0xffff == 0x0010:
                return position, data
            position = (header >> 20) & 0xffc
            if not position:
                break
        raise AssertionError('fake kernel: %s has no SR-IOV capability in its config space' % pf_address)

    def _set_config_numvfs(self, pf_address, count):
        """The kernel writes NumVFs into the capability before it enables VFs (and 0 when it removes them)."""
        position, _data = self.sriov_capability_position(pf_address)
        with open(self.host.path(self.devdir(pf_address) + '/config'), 'r+b') as handle:
            handle.seek(position + 0x10)
            handle.write(count.to_bytes(2, 'little'))

    def vf_address(self, pf_address, index):
        position, data = self.sriov_capability_position(pf_address)
        offset = int.from_bytes(data[position + 0x14:position + 0x16], 'little')
        stride = int.from_bytes(data[position + 0x16:position + 0x18], 'little')
        domain, bus, devfn = pf_address.split(':')
        dev, fn = devfn.split('.')
        rid = (int(bus, 16) << 8) | (int(dev, 16) << 3) | int(fn)
        rid += offset + stride * index
        return '%s:%02x:%02x.%d' % (domain, rid >> 8, (rid & 0xff) >> 3, rid & 7)

    def _create_vfs(self, pf_address, count):
        devdir = self.devdir(pf_address)
        vendor, device = self._ids(pf_address)
        position, data = self.sriov_capability_position(pf_address)
        vf_device = '%04x' % int.from_bytes(data[position + 0x1a:position + 0x1c], 'little')
        self._set_config_numvfs(pf_address, count)
        numa = self.fs.read(devdir + '/numa_node') or '-1'
        autoprobe = self.fs.read(devdir + '/sriov_drivers_autoprobe', '1') == '1'
        parent = os.path.dirname(devdir)
        infos = []
        for index in range(count):
            vf = self.vf_address(pf_address, index)
            group = self._next_group
            self._next_group += 1
            vf_dir = self.host.pci_device(vf, vendor='0x' + vendor, device='0x' + vf_device, numa_node=int(numa),
                                          iommu_group=group, parent=parent)
            self.host.link(vf_dir + '/physfn', devdir)
            self.host.link(devdir + '/virtfn%d' % index, vf_dir)
            pf_ifs = self.fs.listdir(devdir + '/net')
            self.saved_netdevs[vf] = ['%sv%d' % (pf_ifs[0] if pf_ifs else 'vf' + vf.replace(':', ''), index)]
            if autoprobe:
                self.probe(vf)
            infos.append({'vf': index, 'mac': '00:00:00:00:00:00', 'vlan': 0, 'qos': 0, 'spoofchk': True,
                          'trust': False, 'link_state': 'auto', 'max_tx': 0, 'min_tx': 0})
        self.vfinfo[pf_address] = infos
        self._plain_write(self.fs, devdir + '/sriov_numvfs', str(count))

    def _remove_vfs(self, pf_address):
        devdir = self.devdir(pf_address)
        for name in self.fs.listdir(devdir):
            if not name.startswith('virtfn'):
                continue
            vf_dir = self.fs.realpath(devdir + '/' + name)
            vf = os.path.basename(vf_dir)
            self.detach(vf)
            self.saved_netdevs.pop(vf, None)
            group = self.fs.link_name(vf_dir + '/iommu_group')
            if group:
                shutil.rmtree(self.host.path('/sys/kernel/iommu_groups/' + group))
            os.unlink(self.host.path('/sys/bus/pci/devices/' + vf))
            shutil.rmtree(self.host.path(vf_dir))
            os.unlink(self.host.path(devdir + '/' + name))
        self.vfinfo[pf_address] = []
        self._set_config_numvfs(pf_address, 0)
        self._plain_write(self.fs, devdir + '/sriov_numvfs', '0')

    # -- commands ---------------------------------------------------------------------
    def _pf_of_ifname(self, ifname):
        target = self.fs.readlink('/sys/class/net/%s/device' % ifname)
        return os.path.basename(target) if target else None

    def _link_json(self, ifname):
        base = '/sys/class/net/%s' % ifname
        operstate = (self.fs.read(base + '/operstate') or 'unknown').upper()
        entry = {'ifindex': self.fs.read_int(base + '/ifindex', 0), 'ifname': ifname,
                 'flags': ['BROADCAST', 'MULTICAST'] + (['UP', 'LOWER_UP'] if operstate == 'UP' else []),
                 'mtu': 1500, 'operstate': operstate, 'link_type': 'ether',
                 'address': self.fs.read(base + '/address'), 'broadcast': 'ff:ff:ff:ff:ff:ff'}
        master = self.fs.link_name(base + '/master')
        if master:
            entry['master'] = master
        pf = self._pf_of_ifname(ifname)
        if pf and self.vfinfo.get(pf):
            entry['vfinfo_list'] = [self._vf_json(info) for info in self.vfinfo[pf]]
        return entry

    @staticmethod
    def _vf_json(info):
        """One VF as iproute2 6.1 prints it in ``ip -j link show``."""
        out = {'vf': info['vf'], 'link_type': 'ether', 'address': info['mac'], 'broadcast': 'ff:ff:ff:ff:ff:ff'}
        if info['vlan']:
            vlan = {'vlan': info['vlan']}
            if info['qos']:
                vlan['qos'] = info['qos']
            out['vlan_list'] = [vlan]
        if info['max_tx'] or info['min_tx']:
            out['rate'] = {'max_tx': info['max_tx'], 'min_tx': info['min_tx']}
        out.update({'spoofchk': info['spoofchk'], 'link_state': info['link_state'], 'trust': info['trust'],
                    'query_rss_en': False})
        return out

    def ip(self, args):
        if args[:1] == ['-j']:
            args = args[1:]
            if args[:2] == ['link', 'show']:
                names = [args[3]] if args[2:3] == ['dev'] else self.fs.listdir('/sys/class/net')
                if any(not self.fs.exists('/sys/class/net/' + n) for n in names):
                    return 1, '', 'Device "%s" does not exist.\n' % names[0]
                return 0, json.dumps([self._link_json(n) for n in names]), ''
            if args[:2] == ['addr', 'show']:
                names = [args[3]] if args[2:3] == ['dev'] else self.fs.listdir('/sys/class/net')
                if any(not self.fs.exists('/sys/class/net/' + n) for n in names):
                    return 1, '', 'Device "%s" does not exist.\n' % names[0]
                out = []
                for name in names:
                    entry = self._link_json(name)
                    entry.pop('vfinfo_list', None)
                    entry['addr_info'] = [{'family': fam, 'local': local, 'prefixlen': plen, 'scope': 'global'}
                                          for fam, local, plen in self.addresses.get(name, [])]
                    out.append(entry)
                return 0, json.dumps(out), ''
            if args[:2] == ['route', 'get'] and len(args) == 3:
                if not self.ssh_route_dev:
                    return 2, '', 'RTNETLINK answers: Network is unreachable\n'
                return 0, json.dumps([{'dst': args[2], 'dev': self.ssh_route_dev, 'prefsrc': '192.0.2.10'}]), ''
        if args[:3] == ['link', 'set', 'dev'] and len(args) >= 7 and args[4] == 'vf':
            return self._ip_set_vf(args[3], args[5], args[6:])
        if args[:3] == ['link', 'set', 'dev'] and len(args) == 5 and args[4] in ('up', 'down'):
            base = '/sys/class/net/%s' % args[3]
            if not self.fs.exists(base):
                return 1, '', 'Cannot find device "%s"\n' % args[3]
            self.link_commands.append(list(args))
            self._plain_write(self.fs, base + '/operstate', args[4])
            return 0, '', ''
        raise AssertionError('fake kernel: unexpected ip command %r' % (args,))

    def _ip_set_vf(self, ifname, index, rest):
        pf = self._pf_of_ifname(ifname)
        if pf is None:
            return 1, '', 'Cannot find device "%s"\n' % ifname
        infos = self.vfinfo.get(pf, [])
        if not index.isdigit() or int(index) >= len(infos):
            return 2, '', 'RTNETLINK answers: Invalid argument\n'
        info = infos[int(index)]
        unsupported = self.unsupported_vf_attrs.get(self.driver_of(pf), set())
        keys = {'mac': 'mac', 'vlan': 'vlan', 'qos': 'qos', 'max_tx_rate': 'max_tx', 'min_tx_rate': 'min_tx',
                'spoofchk': 'spoofchk', 'trust': 'trust', 'state': 'link_state'}
        pairs = list(zip(rest[0::2], rest[1::2]))
        if len(rest) % 2 or any(k not in keys for k, _v in pairs):
            return 255, '', 'Error: argument "%s" is wrong\n' % ' '.join(rest)
        for key, _value in pairs:
            if key in unsupported:
                return 2, '', 'RTNETLINK answers: Operation not supported\n'
        for key, value in pairs:
            if key in ('spoofchk', 'trust'):
                info[keys[key]] = value == 'on'
            elif key in ('mac', 'state'):
                info[keys[key]] = value.lower()
            else:
                info[keys[key]] = int(value)
        if 'vlan' in dict(pairs) and 'qos' not in dict(pairs):
            info['qos'] = 0
        return 0, '', ''

    def modprobe(self, args):
        dry_run = '-n' in args
        args = [a for a in args if not a.startswith('-')]
        name, params = args[0], args[1:]
        if name not in MODULE_DRIVERS or name in self.missing_modules:
            return 1, '', 'modprobe: FATAL: Module %s not found in directory /lib/modules/6.1.0-fake\n' % name
        if dry_run:
            return 0, '', ''
        module = name.replace('-', '_')
        self.host.mkdir('/sys/module/%s' % module)
        if name in ('vfio-pci', 'vfio_pci'):
            self.host.mkdir('/sys/module/vfio')
            if not self.host.exists('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode'):
                self.host.file('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'N')
        for param in params:
            key, _sep, value = param.partition('=')
            self.host.file('/sys/module/%s/parameters/%s' % (module, key),
                           {'1': 'Y', '0': 'N'}.get(value, value))
        if MODULE_DRIVERS[name]:
            self.host.pci_driver(MODULE_DRIVERS[name])
        return 0, '', ''

    def _unit_files(self):
        unit_dir = '/etc/systemd/system'
        return dict((name, self.host.read(unit_dir + '/' + name)) for name in self.fs.listdir(unit_dir)
                    if name.endswith('.service') and not self.fs.isdir(unit_dir + '/' + name))

    def systemctl(self, args):
        wants = '/etc/systemd/system/multi-user.target.wants/'
        if self.systemd_loaded is None:
            self.systemd_loaded = self._unit_files()
        if args == ['daemon-reload']:
            if self.daemon_reload_effect:
                self.daemon_reload_effect()
            self.systemd_loaded = self._unit_files()
            return 0, '', ''
        if args[:3] == ['show', '--property=NeedDaemonReload', '--property=LoadState'] and len(args) == 4:
            # Like systemd: a loaded unit whose file changed or went away needs a reload; a unit
            # never loaded is not-found (until a reload), whether or not its file exists now.
            unit = args[3]
            on_disk = self._unit_files().get(unit)
            if unit in self.systemd_loaded:
                stale = on_disk != self.systemd_loaded[unit]
                return 0, 'LoadState=loaded\nNeedDaemonReload=%s\n' % ('yes' if stale else 'no'), ''
            return 0, 'LoadState=not-found\nNeedDaemonReload=no\n', ''
        if args[:2] == ['disable', '--now']:
            args = args[:1] + args[2:]
        if len(args) == 2 and args[0] in ('enable', 'disable', 'is-enabled'):
            unit = args[1]
            link = wants + unit
            if args[0] == 'is-enabled':
                return (0, 'enabled\n', '') if self.host.exists(link) else (1, 'disabled\n', '')
            if args[0] == 'enable':
                if not self.host.exists('/etc/systemd/system/' + unit):
                    return 1, '', 'Failed to enable unit: Unit file %s does not exist.\n' % unit
                self.host.link(link, '/etc/systemd/system/' + unit)
            elif self.host.exists(link):
                os.unlink(self.host.path(link))
            return 0, '', ''
        raise AssertionError('fake kernel: unexpected systemctl command %r' % (args,))


# -- hosts ---------------------------------------------------------------------------
MGMT = '0000:00:03.0'
PF0 = '0000:41:00.0'
PF1 = '0000:81:00.0'


def lab_host(host):
    """The lab VM: two 82576 PFs (igb, 7 VFs each, NUMA 0 and 1), a virtio NIC with the default route."""
    host.pci_device(MGMT, vendor='0x1af4', device='0x1000', driver='virtio-pci', iommu_group=3, numa_node=-1)
    host.netdev('enp0s3', device_path='/sys/devices/pci0000:00/%s/virtio0' % MGMT)
    host.pci_device('0000:00:00.0', vendor='0x8086', device='0x29c0', pci_class='0x060000', iommu_group=0)
    host.pci_device(PF0, vendor='0x8086', device='0x10c9', driver='igb', numa_node=0, iommu_group=10,
                    sriov_totalvfs=7, netdevs=['ens1f0'], parent='/sys/devices/pci0000:40')
    host.pci_device(PF1, vendor='0x8086', device='0x10c9', driver='igb', numa_node=1, iommu_group=11,
                    sriov_totalvfs=7, netdevs=['ens2f0'], parent='/sys/devices/pci0000:80')
    host.file('/sys/kernel/security/lockdown', '[none] integrity confidentiality')
    host.routes('enp0s3')
    host.mkdir('/etc/systemd/system')
    return host


@pytest.fixture
def fake_kernel(fake_host, commands, monkeypatch):
    """The lab host with kernel write semantics; ip/modprobe/systemctl answered."""
    lab_host(fake_host)
    kernel = FakeKernelPci(fake_host).install(monkeypatch, commands)
    kernel.addresses['enp0s3'] = [('inet', '192.0.2.10', 24)]
    monkeypatch.delenv('SSH_CONNECTION', raising=False)
    return kernel
