"""Unit tests of lab/labctl.py's pure logic (no QEMU, no network, no root)."""

import importlib.util
import json
import os
import struct
import sys

import pytest

LAB_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab")
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location("labctl", os.path.join(LAB_DIR, "labctl.py"))
labctl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labctl)


def argv(**kw):
    base = dict(accel="tcg", ssh_port=2222, overlay="/lab/run/overlay.qcow2",
                console="/lab/run/console.log", qmp="/lab/run/qmp.sock", pidfile="/lab/run/qemu.pid")
    base.update(kw)
    return labctl.qemu_argv(**base)


def values(args, flag):
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_wrapper_is_executable_python3():
    path = os.path.join(LAB_DIR, "labctl")
    assert os.access(path, os.X_OK)
    with open(path) as f:
        assert f.readline().strip() == "#!/usr/bin/env python3"


def test_tcg_accel_uses_cpu_max_and_multithreaded_tcg():
    a = argv(accel="tcg")
    assert values(a, "-accel") == ["tcg,thread=multi,tb-size=512"]
    assert values(a, "-cpu") == ["max"]


def test_kvm_accel_uses_host_cpu():
    a = argv(accel="kvm")
    assert values(a, "-accel") == ["kvm"]
    assert values(a, "-cpu") == ["host"]


def test_bad_accel_rejected():
    with pytest.raises(ValueError):
        argv(accel="hvf")


def test_machine_iommu_and_topology():
    a = argv()
    assert values(a, "-machine") == ["q35,kernel-irqchip=split"]
    assert "intel-iommu,intremap=on,caching-mode=on,eim=on" in values(a, "-device")
    # the IOMMU comes before any PCI device
    devs = values(a, "-device")
    assert devs[0].startswith("intel-iommu")
    assert values(a, "-smp") == ["4,sockets=2,cores=2,threads=1"]
    assert values(a, "-m") == ["4096"]
    assert values(a, "-object") == ["memory-backend-ram,id=m0,size=2048M",
                                    "memory-backend-ram,id=m1,size=2048M"]
    assert values(a, "-numa") == ["node,nodeid=0,cpus=0-1,memdev=m0",
                                  "node,nodeid=1,cpus=2-3,memdev=m1"]


def test_disk_and_mgmt_nic_on_pcie0_with_fixed_addresses():
    devs = values(argv(), "-device")
    blk = [d for d in devs if d.startswith("virtio-blk-pci")]
    net = [d for d in devs if d.startswith("virtio-net-pci")]
    assert blk == ["virtio-blk-pci,drive=disk0,bus=pcie.0,addr=0x3,bootindex=0"]
    assert len(net) == 1 and "bus=pcie.0" in net[0] and "addr=0x2" in net[0]
    assert "mac=%s" % labctl.MGMT_MAC in net[0]
    drive = values(argv(), "-drive")[0]
    assert drive.startswith("file=/lab/run/overlay.qcow2,format=qcow2,if=none")


def test_ssh_forward_only_on_loopback_and_restricted():
    nets = values(argv(ssh_port=2299), "-netdev")
    user = [n for n in nets if n.startswith("user,")]
    assert user == ["user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2299-:22"]


def test_two_igb_pfs_per_numa_node_on_one_hub():
    a = argv()
    devs = values(a, "-device")
    pxb = [d for d in devs if d.startswith("pxb-pcie")]
    assert len(pxb) == 2
    assert "bus_nr=64" in pxb[0] and "numa_node=0" in pxb[0]
    assert "bus_nr=128" in pxb[1] and "numa_node=1" in pxb[1]
    rps = [d for d in devs if d.startswith("pcie-root-port")]
    assert [r.split(",")[2] for r in rps] == ["bus=pxb0", "bus=pxb1"]
    igbs = [d for d in devs if d.startswith("igb,")]
    assert len(igbs) == 2 and "bus=rp0" in igbs[0] and "bus=rp1" in igbs[1]
    hubs = [n for n in values(a, "-netdev") if n.startswith("hubport")]
    assert hubs == ["hubport,id=hp0,hubid=0", "hubport,id=hp1,hubid=0"]
    # nothing but the management NIC touches a host-side network
    assert not [n for n in values(a, "-netdev") if n.startswith(("tap", "bridge", "socket", "vde"))]


def test_console_qmp_pidfile_daemonize():
    a = argv()
    assert values(a, "-serial") == ["file:/lab/run/console.log"]
    assert values(a, "-qmp") == ["unix:/lab/run/qmp.sock,server=on,wait=off"]
    assert values(a, "-pidfile") == ["/lab/run/qemu.pid"]
    assert "-daemonize" in a and "-nodefaults" in a
    assert "-daemonize" not in argv(daemonize=False)
    # the process name is how labctl recognises its QEMU
    assert "nfv-dpdk-lab" in values(a, "-name")[0]


def test_pf_addresses_and_interfaces():
    assert labctl.pf_addresses() == ["0000:41:00.0", "0000:81:00.0"]
    assert labctl.pf_interfaces() == ["enp65s0", "enp129s0"]


def test_inventory_renders_expected_yaml():
    text = labctl.render_inventory(ssh_port=2345, private_key="/c/ssh/id_ed25519")
    assert "    dpdk_nodes:\n      hosts:\n        lab-node:\n" in text
    assert "          ansible_host: 127.0.0.1\n" in text
    assert "          ansible_port: 2345\n" in text
    assert "          ansible_user: root\n" in text
    assert '          ansible_ssh_private_key_file: "/c/ssh/id_ed25519"\n' in text
    assert "StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" in text
    assert "-o ServerAliveInterval=5 -o ServerAliveCountMax=3" in text
    assert "          ansible_python_interpreter: /usr/bin/python3\n" in text
    assert "          ansible_ssh_timeout: 60\n" in text
    assert '            - "0000:41:00.0"\n            - "0000:81:00.0"\n' in text
    assert "          lab_mgmt_interface: enp0s2\n" in text
    assert not any(line.rstrip() != line for line in text.splitlines())
    assert "\t" not in text


def test_inventory_parses_as_yaml_if_available():
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(labctl.render_inventory(ssh_port=2222, private_key="/k"))
    host = data["all"]["children"]["dpdk_nodes"]["hosts"]["lab-node"]
    assert host["ansible_port"] == 2222
    assert host["ansible_ssh_private_key_file"] == "/k"
    assert host["lab_pf_addresses"] == ["0000:41:00.0", "0000:81:00.0"]
    assert host["lab_pf_numa_nodes"] == [0, 1]
    assert host["lab_pf_sriov_totalvfs"] == 7


def test_cache_key_is_stable_and_changes_with_recipe():
    r1 = labctl.build_recipe("http://deb.debian.org/debian", "http://deb.debian.org/debian-security", "ssh-ed25519 AAA k")
    r2 = labctl.build_recipe("http://deb.debian.org/debian", "http://deb.debian.org/debian-security", "ssh-ed25519 AAA k")
    assert labctl.cache_key(r1) == labctl.cache_key(r2)
    assert len(labctl.cache_key(r1)) == 16
    json.dumps(r1)  # serialisable
    r3 = labctl.build_recipe("http://mirror.example/debian", "http://deb.debian.org/debian-security", "ssh-ed25519 AAA k")
    r4 = labctl.build_recipe("http://deb.debian.org/debian", "http://deb.debian.org/debian-security", "ssh-ed25519 BBB k")
    r5 = dict(r1, packages=r1["packages"] + ["vim"])
    keys = {labctl.cache_key(r) for r in (r1, r3, r4, r5)}
    assert len(keys) == 4


def test_recipe_includes_required_packages():
    pk = set(labctl.GUEST_PACKAGES)
    for p in ["linux-image-amd64", "grub-pc", "systemd-sysv", "udev", "openssh-server", "python3",
              "sudo", "iproute2", "pciutils", "kmod", "ethtool", "dpdk", "dpdk-dev",
              "librte-net-af-packet23", "librte-net-tap23", "librte-net-e1000-23", "podman",
              "irqbalance", "python3-apt", "python3-yaml"]:
        assert p in pk, p


def test_parse_mirror_deb822_and_one_line():
    deb822 = ("Types: deb\n# http://snapshot.debian.org/archive/debian/2025\nURIs: http://deb.debian.org/debian\n"
              "Suites: bookworm\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\n")
    assert labctl.parse_mirror([deb822]) == "http://deb.debian.org/debian"
    one = "deb [arch=amd64] http://ftp.fr.debian.org/debian/ bookworm main\n"
    assert labctl.parse_mirror(["deb https://packages.example.com/apt x main\n", one]) == \
        "http://ftp.fr.debian.org/debian"
    assert labctl.parse_mirror(["deb http://security.debian.org/debian-security bookworm-security main"]) \
        == labctl.DEFAULT_MIRROR
    assert labctl.parse_mirror([]) == labctl.DEFAULT_MIRROR


def test_mbr_has_one_bootable_linux_partition():
    size = 6 * 1024 ** 3
    mbr = labctl.mbr_bytes(size)
    assert len(mbr) == 512 and mbr[510:] == b"\x55\xaa"
    status, ptype = mbr[446], mbr[450]
    start, count = struct.unpack_from("<II", mbr, 454)
    assert (status, ptype, start) == (0x80, 0x83, 2048)
    assert start + count == size // 512
    assert mbr[462:510] == bytes(48)
    assert mbr[:440] == bytes(440)  # boot code is grub-bios-setup's job
    with pytest.raises(ValueError):
        labctl.mbr_bytes(1000)


def test_grub_files():
    files = labctl.guest_files("1234-uuid", "ssh-ed25519 AAA k", "6.1.0-99-amd64")
    grub = files["/etc/default/grub"][0]
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8"' in grub.splitlines()
    assert "GRUB_DEVICE" not in grub  # the guest's update-grub probes like on hardware
    cfg = files["/boot/grub/grub.cfg"][0]
    assert "linux /boot/vmlinuz-6.1.0-99-amd64 root=UUID=1234-uuid ro console=ttyS0,115200n8" in cfg
    assert "initrd /boot/initrd.img-6.1.0-99-amd64" in cfg
    assert files["/etc/fstab"][0].startswith("UUID=1234-uuid\t/\text4")
    net = files["/etc/systemd/network/10-lab-mgmt.network"][0]
    assert "MACAddress=%s" % labctl.MGMT_MAC in net and "DHCP=ipv4" in net
    key, mode = files["/root/.ssh/authorized_keys"]
    assert key == "ssh-ed25519 AAA k\n" and mode == 0o600
    assert labctl.grub_early_cfg("U") == "search.fs_uuid U root\nset prefix=($root)/boot/grub\n"


def test_kvm_probe_bootsector():
    s = labctl.kvm_probe_bootsector(1000)
    assert len(s) == 512 and s[510:] == b"\x55\xaa"
    assert struct.unpack_from("<I", s, 2)[0] == 1000
    assert b"\xba\xf4\x00\xb0\x01\xee" in s  # write 1 to isa-debug-exit


def test_lab_paths_follow_cache_env(tmp_path):
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path)})
    assert lab.cache == str(tmp_path)
    assert lab.overlay == str(tmp_path / "run" / "overlay.qcow2")
    assert lab.lab_path(lab.overlay) == "/lab/run/overlay.qcow2"
    assert lab.lab_path(str(tmp_path / "images" / "base-x.raw")) == "/lab/images/base-x.raw"
    with pytest.raises(ValueError):
        lab.lab_path("/etc/passwd")
    assert lab.boot_timeout == labctl.DEFAULT_BOOT_TIMEOUT
    assert labctl.Lab({"NFV_DPDK_LAB_CACHE": "/x", "NFV_DPDK_LAB_BOOT_TIMEOUT": "30"}).boot_timeout == 30


def test_default_cache_dir(monkeypatch):
    monkeypatch.setenv("HOME", "/home/u")
    lab = labctl.Lab({})
    assert lab.cache == "/home/u/.cache/nfv-dpdk-lab"


def test_pick_port_prefers_free_port_and_falls_back():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        assert not labctl.port_free(busy)
        other = labctl.pick_port(busy)
        assert other != busy and 0 < other < 65536


def test_in_qemu_root_wraps_in_private_mount_namespace(tmp_path):
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_MIRROR": "http://m/debian"})
    cmd = lab.in_qemu_root(["qemu-img", "info", "x"])
    assert cmd[:3] == ["unshare", "-m", "--"]
    assert cmd[-3:] == ["qemu-img", "info", "x"]
    assert "exec chroot" in cmd[5] and "--make-rprivate" in cmd[5]


def test_choose_accel_env_override(tmp_path):
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_ACCEL": "tcg"})
    assert labctl.choose_accel(lab)[0] == "tcg"
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_ACCEL": "bogus"})
    with pytest.raises(labctl.LabError):
        labctl.choose_accel(lab)


def test_main_usage_and_not_running(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NFV_DPDK_LAB_CACHE", str(tmp_path))
    assert labctl.main(["inventory"]) == labctl.EXIT_NOT_RUNNING
    assert labctl.main(["ssh", "true"]) == labctl.EXIT_NOT_RUNNING
    assert "not running" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        labctl.main(["frobnicate"])
    assert e.value.code == 2


def fake_grub_images(core_sectors=40):
    boot = bytearray(512)
    boot[0:2] = b"\xeb\x63"
    struct.pack_into("<Q", boot, 0x5c, 1)
    boot[0x64:0x68] = b"\xff\xfa\xeb\x05"
    boot[510:512] = b"\x55\xaa"
    core = bytearray(512 * core_sectors)
    struct.pack_into("<QHH", core, 500, 2, core_sectors - 1, 0x820)
    return bytes(boot), bytes(core)


def test_grub_mbr_keeps_partition_table_and_points_at_core():
    mbr = labctl.mbr_bytes(6 * 1024 ** 3)
    boot, core = fake_grub_images()
    s = labctl.grub_mbr(mbr, boot, core)
    assert len(s) == 512 and s[510:] == b"\x55\xaa"
    assert s[0x1b8:0x1fe] == mbr[0x1b8:0x1fe]          # disk signature + partition table
    assert struct.unpack_from("<Q", s, 0x5c)[0] == 1    # core.img at LBA 1
    assert s[0x64] == 0xff and s[0x66:0x68] == b"\x90\x90"
    assert s[0:2] == b"\xeb\x63"                        # boot code kept


def test_grub_mbr_rejects_bad_inputs():
    mbr = labctl.mbr_bytes(6 * 1024 ** 3)
    boot, core = fake_grub_images()
    with pytest.raises(ValueError):
        labctl.grub_mbr(bytes(512), boot, core)         # no partition table
    big = fake_grub_images(core_sectors=3000)[1]
    with pytest.raises(ValueError):
        labctl.grub_mbr(mbr, boot, big)                 # does not fit before 1 MiB
    bad = bytearray(core)
    struct.pack_into("<H", bad, 508, 5)
    with pytest.raises(ValueError):
        labctl.grub_mbr(mbr, boot, bytes(bad))          # blocklist does not match


def test_instances_share_the_cache_but_not_the_run_dir(tmp_path):
    a = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path)})
    b = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_INSTANCE": "ci-2"})
    assert a.images == b.images and a.key == b.key
    assert a.run == str(tmp_path / "run") and b.run == str(tmp_path / "run-ci-2")
    assert b.inventory == str(tmp_path / "run-ci-2" / "inventory.yml")
    assert b.lab_path(b.overlay) == "/lab/run/overlay.qcow2"
    with pytest.raises(labctl.LabError):
        labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_INSTANCE": "../x"})


def test_setup_script_masks_and_small_initramfs():
    script = labctl.chroot_setup_script()
    assert script.startswith("set -e\n")
    for unit in ("systemd-networkd-wait-online.service", "systemd-firstboot.service",
                 "apt-daily.timer", "apt-daily-upgrade.timer"):
        assert unit in script
    assert "update-initramfs -u -k all" in script
    files = labctl.guest_files("u", "k", "v")
    assert files["/etc/initramfs-tools/conf.d/lab-modules.conf"][0].endswith("MODULES=list\n")
    # the recipe covers the script, so changing it rebuilds the image
    r = labctl.build_recipe("m", "s", "k")
    assert r["setup_script"] == script
