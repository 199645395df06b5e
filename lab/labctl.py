"""labctl: a QEMU "bare-metal DPDK node" for nfv.dpdk (Python 3 stdlib only).

The guest is Debian 12 (bookworm) built with mmdebstrap from Debian's packages
(no cloud image) into a raw disk image that is cached and never modified: every
boot runs from a qcow2 overlay on top of it.  QEMU itself comes from a Debian
trixie root (QEMU 10: the ``igb`` NIC with SR-IOV needs QEMU >= 8) that is run
chrooted inside a private mount namespace.

Pure functions (command lines, file contents, inventory, cache key, MBR) are at
the top and unit tested in tests/unit/lab/test_labctl.py; everything that runs
programs is below them.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

# ---------------------------------------------------------------------------
# Recipe constants.  Anything that changes the base image must be part of
# build_recipe() so that a change rebuilds the cached image.
# ---------------------------------------------------------------------------

RECIPE_VERSION = 2
GUEST_SUITE = "bookworm"
QEMU_SUITE = "trixie"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"

GUEST_PACKAGES = [
    # boot and base system
    "linux-image-amd64", "grub-pc", "systemd-sysv", "udev", "dbus", "kmod",
    "e2fsprogs", "procps", "iproute2", "iputils-ping", "netbase",
    "ca-certificates", "less", "sudo", "openssh-server",
    # what Ansible needs on the target; PyYAML for nfv.dpdk.kubelet_config, as on a kubelet node
    "python3", "python3-apt", "python3-yaml",
    # inspection tools
    "pciutils", "ethtool", "numactl", "irqbalance",
    # DPDK and the PMDs the lab uses (igb PF and VF, virtio, af_packet, tap)
    "dpdk", "dpdk-dev", "python3-pyelftools",
    "librte-net-e1000-23", "librte-net-af-packet23", "librte-net-tap23",
    "librte-net-virtio23", "librte-mempool23", "librte-mempool-ring23",
    "librte-bus-pci23", "librte-bus-vdev23",
    # containers: installing podman in a running TCG guest takes ~10 min
    "podman", "crun", "catatonit", "netavark", "aardvark-dns", "iptables",
]
QEMU_PACKAGES = ["qemu-system-x86", "qemu-utils", "seabios"]

DISK_SIZE = 6 * 1024 ** 3          # sparse raw image
PART_START_LBA = 2048              # partition 1 at 1 MiB
SECTOR = 512
ROOT_LABEL = "lab-root"
HOSTNAME = "lab-node"

MGMT_MAC = "52:54:00:4e:46:01"
MGMT_ADDR = 0x2                    # virtio-net on pcie.0 -> 0000:00:02.0
DISK_ADDR = 0x3                    # virtio-blk on pcie.0 -> 0000:00:03.0
MGMT_IFNAME = "enp0s2"
NUMA_NODES = 2
CPUS_PER_NODE = 2
MEM_MB = 4096
# one igb PF (82576, SR-IOV, 7 VFs) per NUMA node, behind pxb-pcie bus N
PF_BUS_NR = [0x40, 0x80]
PF_MACS = ["52:54:00:4e:46:10", "52:54:00:4e:46:20"]

DEFAULT_SSH_PORT = 2222
DEFAULT_BOOT_TIMEOUT = 600         # seconds, first boot to SSH under TCG is ~1 min
DEFAULT_DOWN_TIMEOUT = 90

# exit codes
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DEPS = 3
EXIT_BUILD = 4
EXIT_BOOT = 5
EXIT_NOT_RUNNING = 7


class LabError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------
# Pure logic
# ---------------------------------------------------------------------------

def pf_addresses() -> list[str]:
    """PCI addresses of the igb PFs as the guest sees them."""
    return ["0000:%02x:00.0" % (bus + 1) for bus in PF_BUS_NR]


def pf_interfaces() -> list[str]:
    """Predictable interface names of the igb PFs (enp<bus>s0)."""
    return ["enp%ds0" % (bus + 1) for bus in PF_BUS_NR]


def parse_mirror(sources_texts: list[str], default: str = DEFAULT_MIRROR) -> str:
    """Return the Debian archive URI configured in apt sources (one-line or deb822)."""
    for text in sources_texts:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            uris: list[str] = []
            if line.startswith("deb "):
                # deb [opts] URI suite comps...; drop bracketed options
                m = re.match(r"deb\s+(\[[^\]]*\]\s+)?(\S+)", line)
                if m:
                    uris = [m.group(2)]
            elif line.lower().startswith("uris:"):
                uris = line.split(":", 1)[1].split()
            for uri in uris:
                u = uri.rstrip("/")
                if re.search(r"/debian$", u) and "security" not in u:
                    return u
    return default


def build_recipe(mirror: str, security_mirror: str, pubkey: str) -> dict:
    """Everything that determines the base image's content."""
    sample_uuid = "00000000-0000-4000-8000-000000000000"
    return {
        "version": RECIPE_VERSION,
        "suite": GUEST_SUITE,
        "mirror": mirror,
        "security_mirror": security_mirror,
        "packages": sorted(GUEST_PACKAGES),
        "disk_size": DISK_SIZE,
        "part_start_lba": PART_START_LBA,
        "pubkey": pubkey.strip(),
        "files": guest_files(sample_uuid, pubkey, "KVER"),
        "setup_script": chroot_setup_script(),
        "mgmt_mac": MGMT_MAC,
    }


def cache_key(recipe: dict) -> str:
    blob = json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def qemu_recipe(mirror: str) -> dict:
    return {"suite": QEMU_SUITE, "mirror": mirror, "packages": sorted(QEMU_PACKAGES)}


def apt_sources(mirror: str, security_mirror: str, suite: str = GUEST_SUITE) -> list[str]:
    lines = ["deb %s %s main" % (mirror, suite)]
    if suite == GUEST_SUITE:
        lines.append("deb %s %s-updates main" % (mirror, suite))
        lines.append("deb %s %s-security main" % (security_mirror, suite))
    return lines


def kernel_cmdline_base() -> str:
    return "console=ttyS0,115200n8"


def default_grub() -> str:
    return (
        "# /etc/default/grub of the nfv.dpdk lab node (regenerate grub.cfg with update-grub)\n"
        "GRUB_DEFAULT=0\n"
        "GRUB_TIMEOUT=1\n"
        "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
        'GRUB_CMDLINE_LINUX_DEFAULT=""\n'
        'GRUB_CMDLINE_LINUX="%s"\n'
        'GRUB_TERMINAL="serial"\n'
        'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"\n'
        "GRUB_DISABLE_OS_PROBER=true\n" % kernel_cmdline_base()
    )


def initial_grub_cfg(fs_uuid: str, kver: str) -> str:
    """grub.cfg written at build time; the guest's update-grub replaces it."""
    return (
        "# Written by lab/labctl at image build time; update-grub in the guest regenerates it.\n"
        "set default=0\n"
        "set timeout=1\n"
        "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1\n"
        "terminal_input serial\n"
        "terminal_output serial\n"
        "insmod part_msdos\n"
        "insmod ext2\n"
        "search --no-floppy --fs-uuid --set=root %(u)s\n"
        "menuentry 'Debian GNU/Linux (nfv.dpdk lab)' {\n"
        "\tlinux /boot/vmlinuz-%(k)s root=UUID=%(u)s ro %(c)s\n"
        "\tinitrd /boot/initrd.img-%(k)s\n"
        "}\n" % {"u": fs_uuid, "k": kver, "c": kernel_cmdline_base()}
    )


def grub_early_cfg(fs_uuid: str) -> str:
    return "search.fs_uuid %s root\nset prefix=($root)/boot/grub\n" % fs_uuid


def guest_files(fs_uuid: str, pubkey: str, kver: str) -> dict[str, tuple[str, int]]:
    """Files written into the guest root: path -> (content, mode)."""
    return {
        "/etc/hostname": (HOSTNAME + "\n", 0o644),
        "/etc/hosts": ("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                       % HOSTNAME, 0o644),
        "/etc/fstab": ("UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n" % fs_uuid, 0o644),
        "/etc/default/grub": (default_grub(), 0o644),
        "/boot/grub/grub.cfg": (initial_grub_cfg(fs_uuid, kver), 0o444),
        "/etc/systemd/network/10-lab-mgmt.network": (
            "# management NIC of the nfv.dpdk lab (QEMU user network)\n"
            "[Match]\nMACAddress=%s\n\n[Network]\nDHCP=ipv4\nIPv6AcceptRA=no\nLinkLocalAddressing=no\n"
            % MGMT_MAC, 0o644),
        "/root/.ssh/authorized_keys": (pubkey.strip() + "\n", 0o600),
        "/etc/ssh/sshd_config.d/10-lab.conf": (
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n", 0o644),
        "/etc/resolv.conf": ("# the lab's management network has no DNS\n", 0o644),
        "/etc/apt/apt.conf.d/90-lab": ('APT::Install-Recommends "false";\n', 0o644),
        "/etc/initramfs-tools/conf.d/lab-modules.conf": (
            "# nfv.dpdk lab: only the modules in /etc/initramfs-tools/modules (virtio disk, ext4)\n"
            "MODULES=list\n", 0o644),
    }


def chroot_setup_stages() -> list[tuple[str, list[str]]]:
    """The chroot setup as (stage, shell lines): labctl runs and reports each stage on its own."""
    return [
        ("GRUB core image", [
            "grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -c /tmp/early.cfg"
            " -p /boot/grub biosdisk part_msdos ext2 search_fs_uuid",
            # as on hardware: a grub-pc upgrade reinstalls GRUB to the boot disk
            "echo 'grub-pc grub-pc/install_devices multiselect /dev/vda' | debconf-set-selections",
        ]),
        ("systemd units", [
            "systemctl enable systemd-networkd.service ssh.service >/dev/null 2>&1",
            # data-plane NICs stay unconfigured, so nothing may wait for "online";
            # systemd-firstboot would prompt on the serial console and hang the first boot
            "systemctl mask systemd-networkd-wait-online.service systemd-firstboot.service"
            " apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service"
            " >/dev/null 2>&1",
            # periodic jobs that only cost CPU in an emulated guest
            "systemctl mask podman-auto-update.timer podman-auto-update.service e2scrub_all.timer"
            " e2scrub_reap.service >/dev/null 2>&1",
        ]),
        ("initramfs", [
            # a small initramfs: unpacking Debian's default (MODULES=most, ~36 MB) takes tens of
            # seconds under TCG; the guest's own update-initramfs keeps using this setting
            "printf 'virtio_pci\\nvirtio_blk\\next4\\n' >> /etc/initramfs-tools/modules",
            "update-initramfs -u -k all",
        ]),
        ("machine-id reset", [
            # each overlay gets its own machine-id on its first boot
            "rm -f /etc/machine-id /var/lib/dbus/machine-id; touch /etc/machine-id",
            "rm -f /tmp/early.cfg",
        ]),
    ]


def chroot_setup_script() -> str:
    """Shell run chrooted in the guest root after the files of guest_files() are written.

    The stages of chroot_setup_stages() in one script: this text is part of the
    recipe (the cache key), so it stays the same however the stages are run.
    """
    return "\n".join(["set -e"] + [line for _stage, lines in chroot_setup_stages() for line in lines]) + "\n"


def mbr_bytes(disk_size: int, start_lba: int = PART_START_LBA, disk_signature: int = 0x4e464450) -> bytes:
    """A DOS partition table with one bootable Linux partition from start_lba to the end."""
    if disk_size % SECTOR or disk_size // SECTOR <= start_lba:
        raise ValueError("bad disk size")
    nsect = disk_size // SECTOR - start_lba
    mbr = bytearray(SECTOR)
    struct.pack_into("<I", mbr, 440, disk_signature)
    mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff",
                               start_lba, nsect)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def grub_mbr(mbr: bytes, boot_img: bytes, core_img: bytes, core_lba: int = 1,
             start_lba: int = PART_START_LBA) -> bytes:
    """Sector 0 that boots GRUB's core.img embedded at core_lba (as grub-bios-setup does).

    boot.img keeps the disk's BPB area, disk signature and partition table, gets
    the LBA of core.img at 0x5c and 0xff (use the BIOS drive) at 0x64, and the
    floppy drive check at 0x66 is replaced with two NOPs.  core.img as written
    by grub-mkimage already lists its remaining sectors right after its first.
    """
    if len(mbr) != SECTOR or len(boot_img) != SECTOR:
        raise ValueError("MBR and boot.img must be one sector")
    if mbr[510:512] != b"\x55\xaa":
        raise ValueError("no partition table")
    nsect = (len(core_img) + SECTOR - 1) // SECTOR
    if core_lba + nsect > start_lba:
        raise ValueError("core.img (%d sectors) does not fit before the first partition" % nsect)
    start, length, _seg = struct.unpack_from("<QHH", core_img, SECTOR - 12)
    if start != core_lba + 1 or length != nsect - 1:
        raise ValueError("core.img blocklist (%d, %d) does not match LBA %d" % (start, length, core_lba))
    b = bytearray(boot_img)
    b[0x03:0x5a] = mbr[0x03:0x5a]
    b[0x1b8:0x1fe] = mbr[0x1b8:0x1fe]
    struct.pack_into("<Q", b, 0x5c, core_lba)
    b[0x64] = 0xFF
    b[0x66:0x68] = b"\x90\x90"
    b[510:512] = b"\x55\xaa"
    return bytes(b)


def kvm_probe_bootsector(loops: int = 50_000_000) -> bytes:
    """A 512-byte boot sector: busy loop, then write 1 to isa-debug-exit (QEMU exits 3).

    Under a working KVM it finishes in milliseconds; under an emulating
    hypervisor (as on PVM hosts) it does not finish within the probe's timeout.
    """
    code = b"\x66\xb9" + struct.pack("<I", loops)   # mov ecx, loops
    code += b"\x66\x49"                              # dec ecx
    code += b"\x75\xfc"                              # jnz -4
    code += b"\xba\xf4\x00\xb0\x01\xee"              # mov dx,0xf4; mov al,1; out dx,al
    code += b"\xf4\xeb\xfd"                          # hlt; jmp hlt
    sector = bytearray(SECTOR)
    sector[:len(code)] = code
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def accel_args(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if accel == "tcg":
        # -cpu max: Debian's DPDK needs SSE4.2/AVX2, 1G hugepages need pdpe1gb
        return ["-accel", "tcg,thread=multi,tb-size=512", "-cpu", "max"]
    raise ValueError("accel must be kvm or tcg, not %r" % accel)


def qemu_argv(*, accel: str, ssh_port: int, overlay: str, console: str, qmp: str,
              pidfile: str, daemonize: bool = True, qemu: str = "qemu-system-x86_64") -> list[str]:
    """The QEMU command line of the lab node (paths as QEMU sees them)."""
    ncpus = NUMA_NODES * CPUS_PER_NODE
    node_mb = MEM_MB // NUMA_NODES
    argv = [qemu, "-name", "nfv-dpdk-lab,process=nfv-dpdk-lab", "-nodefaults", "-no-user-config",
            "-machine", "q35,kernel-irqchip=split"]
    argv += accel_args(accel)
    argv += ["-smp", "%d,sockets=%d,cores=%d,threads=1" % (ncpus, NUMA_NODES, CPUS_PER_NODE),
             "-m", str(MEM_MB)]
    for n in range(NUMA_NODES):
        argv += ["-object", "memory-backend-ram,id=m%d,size=%dM" % (n, node_mb)]
    for n in range(NUMA_NODES):
        first = n * CPUS_PER_NODE
        argv += ["-numa", "node,nodeid=%d,cpus=%d-%d,memdev=m%d"
                 % (n, first, first + CPUS_PER_NODE - 1, n)]
    # eim=on is required: without it two igb behind pxb-pcie hang the boot
    argv += ["-device", "intel-iommu,intremap=on,caching-mode=on,eim=on"]
    # disk and management NIC: explicit devices on pcie.0 (-drive if=virtio fails next to pxb)
    argv += ["-drive", "file=%s,format=qcow2,if=none,id=disk0,cache=unsafe,discard=unmap" % overlay,
             "-device", "virtio-blk-pci,drive=disk0,bus=pcie.0,addr=0x%x,bootindex=0" % DISK_ADDR,
             # restrict=on: the guest reaches nothing; only the SSH forward comes in
             "-netdev", "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % ssh_port,
             "-device", "virtio-net-pci,netdev=mgmt,mac=%s,bus=pcie.0,addr=0x%x,romfile="
             % (MGMT_MAC, MGMT_ADDR)]
    # one SR-IOV igb PF per NUMA node, behind its own pxb-pcie, all on QEMU hub 0
    for n in range(NUMA_NODES):
        argv += ["-device", "pxb-pcie,id=pxb%d,bus_nr=%d,numa_node=%d,bus=pcie.0,addr=0x%x"
                 % (n, PF_BUS_NR[n], n, 0x10 + n),
                 "-device", "pcie-root-port,id=rp%d,bus=pxb%d,chassis=%d,slot=0" % (n, n, 10 + n),
                 "-netdev", "hubport,id=hp%d,hubid=0" % n,
                 "-device", "igb,netdev=hp%d,bus=rp%d,mac=%s,romfile=" % (n, n, PF_MACS[n])]
    argv += ["-serial", "file:%s" % console, "-display", "none", "-monitor", "none",
             "-qmp", "unix:%s,server=on,wait=off" % qmp, "-pidfile", pidfile]
    if daemonize:
        argv.append("-daemonize")
    return argv


def yaml_str(value: str) -> str:
    return json.dumps(value)


def render_inventory(*, ssh_port: int, private_key: str, host: str = "127.0.0.1") -> str:
    lines = [
        "# Generated by lab/labctl: the nfv.dpdk QEMU lab node. Regenerated by 'labctl up'.",
        "all:",
        "  children:",
        "    dpdk_nodes:",
        "      hosts:",
        "        lab-node:",
        "          ansible_host: %s" % host,
        "          ansible_port: %d" % ssh_port,
        "          ansible_user: root",
        "          ansible_ssh_private_key_file: %s" % yaml_str(private_key),
        # QEMU's user network keeps the forwarded TCP connection open across a guest
        # reboot: keepalives end a stale ControlMaster instead of hanging on it.
        "          ansible_ssh_common_args: %s" % yaml_str(
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
            " -o ServerAliveInterval=5 -o ServerAliveCountMax=3"),
        "          ansible_python_interpreter: /usr/bin/python3",
        # an emulated guest on a busy host can take well over the default 10 s to shake hands
        "          ansible_ssh_timeout: 60",
        "          ansible_pipelining: true",
        "          lab_node: true",
        "          lab_mgmt_interface: %s" % MGMT_IFNAME,
        "          lab_numa_nodes: %d" % NUMA_NODES,
        "          lab_pf_addresses:",
    ]
    lines += ["            - %s" % yaml_str(a) for a in pf_addresses()]
    lines.append("          lab_pf_interfaces:")
    lines += ["            - %s" % yaml_str(i) for i in pf_interfaces()]
    lines.append("          lab_pf_numa_nodes:")
    lines += ["            - %d" % n for n in range(NUMA_NODES)]
    lines.append("          lab_pf_sriov_totalvfs: 7")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Environment and paths
# ---------------------------------------------------------------------------

class Lab:
    def __init__(self, env: dict | None = None):
        env = os.environ if env is None else env
        self.env = env
        self.cache = os.path.abspath(os.path.expanduser(
            env.get("NFV_DPDK_LAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "nfv-dpdk-lab")))
        self.images = os.path.join(self.cache, "images")
        self.qemu_dir = os.path.join(self.cache, "qemu")
        self.ssh_dir = os.path.join(self.cache, "ssh")
        # several nodes can share one cache (images, QEMU root, key): one run dir each
        self.instance = env.get("NFV_DPDK_LAB_INSTANCE") or ""
        if self.instance and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", self.instance):
            raise LabError("NFV_DPDK_LAB_INSTANCE must match [a-z0-9][a-z0-9-]*", EXIT_USAGE)
        self.run = os.path.join(self.cache, "run-" + self.instance if self.instance else "run")
        self.tmp = os.path.join(self.cache, "tmp")
        self.logs = os.path.join(self.cache, "logs")
        self.key = os.path.join(self.ssh_dir, "id_ed25519")
        self.pidfile = os.path.join(self.run, "qemu.pid")
        self.overlay = os.path.join(self.run, "overlay.qcow2")
        self.console = os.path.join(self.run, "console.log")
        self.qmp = os.path.join(self.run, "qmp.sock")
        self.state_file = os.path.join(self.run, "state.json")
        self.inventory = os.path.join(self.run, "inventory.yml")
        self.boot_timeout = int(env.get("NFV_DPDK_LAB_BOOT_TIMEOUT") or DEFAULT_BOOT_TIMEOUT)
        self.down_timeout = int(env.get("NFV_DPDK_LAB_DOWN_TIMEOUT") or DEFAULT_DOWN_TIMEOUT)

    # -- helpers ------------------------------------------------------------
    def log(self, msg: str) -> None:
        print("labctl: %s" % msg, file=sys.stderr, flush=True)

    def mirror(self) -> str:
        if self.env.get("NFV_DPDK_LAB_MIRROR"):
            return self.env["NFV_DPDK_LAB_MIRROR"].rstrip("/")
        texts = []
        for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*")):
            try:
                with open(path) as f:
                    texts.append(f.read())
            except OSError:
                pass
        return parse_mirror(texts)

    def security_mirror(self) -> str:
        return (self.env.get("NFV_DPDK_LAB_SECURITY_MIRROR") or DEFAULT_SECURITY_MIRROR).rstrip("/")

    def lock(self, build: bool = False):
        """Exclusive lock: the cache's build lock, or this instance's run lock."""
        d = self.cache if build else self.run
        os.makedirs(d, exist_ok=True)
        f = open(os.path.join(d, ".build.lock" if build else ".lock"), "w")
        deadline = time.monotonic() + 3600
        said = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return f
            except BlockingIOError:
                if not said:
                    said = True
                    self.log("waiting for another labctl to release %s (%s; at most 3600 s)"
                             % (f.name, "it is building the image" if build else "it uses this instance"))
                if time.monotonic() > deadline:
                    raise LabError("another labctl holds %s for over an hour" % f.name)
                time.sleep(2)

    def pubkey(self) -> str:
        self.ensure_key()
        with open(self.key + ".pub") as f:
            return f.read().strip()

    def ensure_key(self) -> None:
        if os.path.exists(self.key) and os.path.exists(self.key + ".pub"):
            return
        need("ssh-keygen", "openssh-client")
        os.makedirs(self.ssh_dir, mode=0o700, exist_ok=True)
        for p in (self.key, self.key + ".pub"):
            if os.path.exists(p):
                os.unlink(p)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nfv-dpdk-lab", "-f", self.key])

    def recipe(self) -> dict:
        return build_recipe(self.mirror(), self.security_mirror(), self.pubkey())

    def base_image(self) -> str:
        return os.path.join(self.images, "base-%s.raw" % cache_key(self.recipe()))

    def qemu_root(self) -> str:
        return os.path.join(self.qemu_dir, "%s-%s" % (QEMU_SUITE, cache_key(qemu_recipe(self.mirror()))))

    # -- state ----------------------------------------------------------------
    def state(self) -> dict:
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def save_state(self, state: dict) -> None:
        os.makedirs(self.run, exist_ok=True)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, self.state_file)

    def pid(self) -> int | None:
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            return None
        return pid if b"nfv-dpdk-lab" in cmd else None

    def ssh_port(self) -> int | None:
        return self.state().get("ssh_port")

    def ssh_base(self, port: int, connect_timeout: int = 10) -> list[str]:
        return ["ssh", "-i", self.key, "-p", str(port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=%d" % connect_timeout,
                "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=6",
                "root@127.0.0.1"]

    def ssh_ok(self, port: int, timeout: int = 25) -> bool:
        try:
            r = subprocess.run(self.ssh_base(port, 10) + ["true"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
            return r.returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def ssh_capture(self, port: int, command: str, timeout: int = 60) -> str | None:
        try:
            r = subprocess.run(self.ssh_base(port, 10) + [command], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return r.stdout if r.returncode == 0 else None

    # -- chrooted QEMU --------------------------------------------------------
    def in_qemu_root(self, argv: list[str]) -> list[str]:
        """Run argv chrooted in the trixie root in a private mount namespace.

        The cache's images/ (read-only) and run/ are bind-mounted at /lab/... ;
        /dev is bind-mounted for /dev/kvm, /dev/net, /dev/urandom.
        """
        os.makedirs(self.images, exist_ok=True)
        os.makedirs(self.run, exist_ok=True)
        script = (
            'set -e; R="$1"; I="$2"; S="$3"; shift 3; '
            'mount --make-rprivate /; '
            'mount --rbind /dev "$R/dev"; mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"; '
            'mkdir -p "$R/lab/images" "$R/lab/run"; '
            'mount --bind "$I" "$R/lab/images"; mount -o remount,bind,ro "$R/lab/images"; '
            'mount --bind "$S" "$R/lab/run"; '
            'exec chroot "$R" "$@"'
        )
        return ["unshare", "-m", "--", "sh", "-c", script, "sh",
                self.qemu_root(), self.images, self.run] + argv

    def lab_path(self, host_path: str) -> str:
        """Path of a cache file as the chrooted QEMU sees it."""
        for host_dir, lab_dir in ((self.images, "/lab/images"), (self.run, "/lab/run")):
            if host_path.startswith(host_dir + os.sep):
                return lab_dir + host_path[len(host_dir):]
        raise ValueError(host_path)


# ---------------------------------------------------------------------------
# Process helpers
# ---------------------------------------------------------------------------

class ResultChannel:
    """labctl's standard output carries only its results (paths, JSON): what callers parse.

    open() keeps the caller's stdout on a private, non-inheritable descriptor and points
    fd 1 at stderr for the rest of the run, so nothing a child process (mmdebstrap, apt,
    update-initramfs, qemu-img, ssh, os.system, a daemon that keeps the fd) or a stray
    print() writes can reach the caller's stdout.  emit() writes a result there.
    """

    def __init__(self) -> None:
        self.saved_fd: int | None = None
        self.saved_sys_stdout = None
        self.stream = None

    def open(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved_fd = os.dup(1)                      # os.dup: not inherited by children
        self.stream = os.fdopen(os.dup(self.saved_fd), "w", encoding="utf-8")
        os.dup2(2, 1)
        # print() too, also where sys.stdout does not write through fd 1
        self.saved_sys_stdout = sys.stdout
        sys.stdout = sys.stderr

    def emit(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(text + "\n")
        stream.flush()

    def restore(self) -> None:
        """Give fd 1 back to the caller's stdout (at exit, or before exec of ssh)."""
        if self.saved_fd is None:
            return
        sys.stdout.flush()
        sys.stdout = self.saved_sys_stdout
        self.stream.close()
        os.dup2(self.saved_fd, 1)
        os.close(self.saved_fd)
        self.saved_fd = None
        self.saved_sys_stdout = None
        self.stream = None


RESULTS = ResultChannel()


def emit(text: str) -> None:
    """Print one result of labctl (the only thing its stdout carries)."""
    RESULTS.emit(text)


class BuildLog:
    """Progress of an image build on stderr; the children's full output in a log file.

    stage() says on stderr which stage starts, with the seconds since the build began;
    run() sends a child's stdout and stderr to the log and says every `heartbeat`
    seconds that it is still running (with the log's last line), so a build is never
    minutes of silence and its output never mixes with labctl's results.
    """

    def __init__(self, lab: "Lab", heartbeat: float = 30.0):
        self.lab = lab
        self.heartbeat = heartbeat
        os.makedirs(lab.logs, exist_ok=True)
        self.path = os.path.join(lab.logs, "build-%s-%d.log" % (time.strftime("%Y%m%dT%H%M%S"), os.getpid()))
        self.file = open(self.path, "ab")
        self.t0 = time.monotonic()
        self.current = ""
        lab.log("build log (full output of every step): %s" % self.path)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def note(self, msg: str) -> None:
        self.file.write(("\n==== labctl [%.0f s] %s\n" % (self.elapsed(), msg)).encode())
        self.file.flush()

    def stage(self, name: str, detail: str = "") -> None:
        """A stage starts: its name (repeated by the heartbeat lines) and what it does."""
        self.current = name
        text = name + (": " + detail if detail else "")
        self.note("stage: " + text)
        self.lab.log("[build %4.0f s] %s" % (self.elapsed(), text))

    def last_line(self) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.path) - 4096))
                lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        if not lines or lines[-1].startswith("==== labctl"):
            return "(no output yet)"
        return lines[-1].strip()[:120]

    def tail(self, n: int = 20) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.path) - 16000))
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""

    def run(self, argv: list[str], timeout: float) -> None:
        self.note("$ " + shlex.join(argv))
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.file, stderr=subprocess.STDOUT)
        while True:
            left = timeout - (time.monotonic() - t0)
            try:
                rc = proc.wait(timeout=max(0.01, min(self.heartbeat, left)))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - t0 >= timeout:
                    proc.kill()
                    proc.wait()
                    self.note("timed out after %ss" % timeout)
                    raise LabError("%s: timed out after %ss: %s; build log %s"
                                   % (self.current, timeout, shlex.join(argv), self.path), EXIT_BUILD)
                self.lab.log("[build %4.0f s] %s: %s still running (%.0f s of at most %.0f s): %s"
                             % (self.elapsed(), self.current, os.path.basename(argv[0]),
                                time.monotonic() - t0, timeout, self.last_line()))
        self.note("exit %d after %.1f s" % (rc, time.monotonic() - t0))
        if rc != 0:
            raise LabError("%s failed (exit %d): %s\nlast lines of the build log %s:\n%s"
                           % (self.current, rc, shlex.join(argv), self.path, self.tail()), EXIT_BUILD)

    def close(self) -> None:
        self.file.close()


def need(tool: str, package: str) -> None:
    if not shutil.which(tool) and not os.path.exists(os.path.join("/usr/sbin", tool)) \
            and not os.path.exists(os.path.join("/sbin", tool)):
        raise LabError("'%s' not found: install the host dependencies with lab/host-deps.sh "
                       "(Debian package %s)" % (tool, package), EXIT_DEPS)


def run(argv: list[str], timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
    """Run a short helper command; its stdout goes to stderr (labctl's stdout is for results)."""
    kw.setdefault("stdout", 2)
    try:
        r = subprocess.run(argv, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %ss: %s" % (timeout, shlex.join(argv)))
    if r.returncode != 0:
        raise LabError("command failed (exit %d): %s" % (r.returncode, shlex.join(argv)))
    return r


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise LabError("%s needs root (mmdebstrap root mode, chroot, mount namespaces)" % what, EXIT_DEPS)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_port(preferred: int) -> int:
    if port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounts_under(path: str) -> list[str]:
    path = os.path.realpath(path)
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mp = line.split()[1].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


def safe_rmtree(path: str) -> None:
    if not os.path.exists(path):
        return
    m = mounts_under(path)
    if m:
        raise LabError("refusing to delete %s: mount points under it: %s" % (path, ", ".join(m)))
    shutil.rmtree(path)


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------

def qemu_root_ready(lab: Lab) -> bool:
    return os.path.exists(os.path.join(lab.qemu_root(), ".nfv-dpdk-lab-complete"))


def ensure_built(lab: Lab, force: bool = False, heartbeat: float = 30.0) -> str:
    """The QEMU root and the base image, built if missing (with progress and a build log)."""
    if qemu_root_ready(lab) and os.path.exists(lab.base_image()) and not force:
        return lab.base_image()
    blog = BuildLog(lab, heartbeat=heartbeat)
    try:
        build_qemu_root(lab, blog)
        return build_image(lab, blog, force=force)
    finally:
        blog.close()


def build_qemu_root(lab: Lab, blog: BuildLog) -> str:
    root = lab.qemu_root()
    if qemu_root_ready(lab):
        return root
    require_root("building the QEMU root")
    need("mmdebstrap", "mmdebstrap")
    need("unshare", "util-linux")
    os.makedirs(lab.qemu_dir, exist_ok=True)
    os.makedirs(lab.tmp, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="qemu-root-", dir=lab.tmp)
    t0 = time.monotonic()
    blog.stage("QEMU root", "mmdebstrap %s (%s) into %s" % (QEMU_SUITE, ", ".join(QEMU_PACKAGES), root))
    try:
        blog.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(QEMU_PACKAGES),
                  QEMU_SUITE, tmp] + apt_sources(lab.mirror(), lab.security_mirror(), QEMU_SUITE),
                 timeout=1800)
        os.makedirs(os.path.join(tmp, "lab", "images"), exist_ok=True)
        os.makedirs(os.path.join(tmp, "lab", "run"), exist_ok=True)
        with open(os.path.join(tmp, ".nfv-dpdk-lab-complete"), "w") as f:
            json.dump(qemu_recipe(lab.mirror()), f)
        if os.path.exists(root):
            safe_rmtree(root)
        os.rename(tmp, root)
    except BaseException:
        safe_rmtree(tmp)
        raise
    lab.log("[build %4.0f s] QEMU root ready in %.0f s" % (blog.elapsed(), time.monotonic() - t0))
    return root


def write_file(root: str, path: str, content: str, mode: int) -> None:
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if os.path.islink(full) or os.path.exists(full):
        os.unlink(full)
    with open(full, "w") as f:
        f.write(content)
    os.chmod(full, mode)


def build_image(lab: Lab, blog: BuildLog, force: bool = False) -> str:
    image = lab.base_image()
    if os.path.exists(image) and not force:
        return image
    require_root("building the image")
    for tool, pkg in (("mmdebstrap", "mmdebstrap"), ("mkfs.ext4", "e2fsprogs"),
                      ("unshare", "util-linux"), ("chroot", "coreutils")):
        need(tool, pkg)
    os.makedirs(lab.images, exist_ok=True)
    os.makedirs(lab.tmp, exist_ok=True)
    key = cache_key(lab.recipe())
    work = tempfile.mkdtemp(prefix="build-%s-" % key, dir=lab.tmp)
    root = os.path.join(work, "root")
    disk = os.path.join(work, "disk.raw")
    t0 = time.monotonic()
    timings = {}
    try:
        blog.stage("guest root and packages", "mmdebstrap %s with its %d packages from %s into %s"
                   % (GUEST_SUITE, len(GUEST_PACKAGES), lab.mirror(), root))
        os.makedirs(root)
        blog.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(GUEST_PACKAGES),
                  "--aptopt=APT::Install-Recommends \"false\"",
                  GUEST_SUITE, root] + apt_sources(lab.mirror(), lab.security_mirror()), timeout=3600)
        timings["mmdebstrap_s"] = round(time.monotonic() - t0, 1)

        kernels = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")))
        if not kernels:
            raise LabError("no kernel in the guest root", EXIT_BUILD)
        kver = os.path.basename(kernels[-1])[len("vmlinuz-"):]
        blog.stage("guest files", "configuration, SSH key and GRUB modules (kernel %s)" % kver)
        fs_uuid = str(uuid.uuid4())
        for path, (content, mode) in guest_files(fs_uuid, lab.pubkey(), kver).items():
            write_file(root, path, content, mode)
        os.chmod(os.path.join(root, "root", ".ssh"), 0o700)

        # GRUB by hand (what grub-install does): modules, core.img with an early config
        grubdir = os.path.join(root, "boot", "grub", "i386-pc")
        os.makedirs(grubdir, exist_ok=True)
        for f in glob.glob(os.path.join(root, "usr", "lib", "grub", "i386-pc", "*")):
            if f.endswith((".mod", ".lst", ".img")):
                shutil.copy2(f, grubdir)
        write_file(root, "/tmp/early.cfg", grub_early_cfg(fs_uuid), 0o644)
        # chroot_setup_script() (the recipe) stage by stage, each with set -e
        for stage, lines in chroot_setup_stages():
            blog.stage(stage, "in the guest root (chroot)")
            blog.run(["unshare", "-m", "--", "sh", "-c",
                      'set -e; R="$1"; shift; mount --make-rprivate /; mount --rbind /dev "$R/dev"; '
                      'mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"; exec chroot "$R" "$@"',
                      "sh", root, "sh", "-c", "\n".join(["set -e"] + lines) + "\n"], timeout=1200)

        # raw disk: DOS partition table + ext4 at 1 MiB populated from the root (no loop devices)
        t1 = time.monotonic()
        blog.stage("disk image", "partition table and ext4 from the guest root (mkfs.ext4 -d, %d GiB sparse)"
                   % (DISK_SIZE // 1024 ** 3))
        with open(disk, "wb") as f:
            f.truncate(DISK_SIZE)
            f.write(mbr_bytes(DISK_SIZE))
        blocks = (DISK_SIZE - PART_START_LBA * SECTOR) // 4096
        blog.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-L", ROOT_LABEL, "-U", fs_uuid,
                  "-E", "offset=%d" % (PART_START_LBA * SECTOR), "-d", root, disk, str(blocks)],
                 timeout=1800)
        timings["mkfs_s"] = round(time.monotonic() - t1, 1)

        # boot.img + core.img into the MBR gap: what grub-bios-setup does for an embedded core
        blog.stage("GRUB boot sector", "boot.img and core.img into the MBR gap")
        with open(os.path.join(grubdir, "boot.img"), "rb") as f:
            boot_img = f.read()
        with open(os.path.join(grubdir, "core.img"), "rb") as f:
            core_img = f.read()
        with open(disk, "r+b") as f:
            sector0 = grub_mbr(f.read(SECTOR), boot_img, core_img)
            f.seek(0)
            f.write(sector0)
            f.seek(SECTOR)
            f.write(core_img)
        timings["grub_core_bytes"] = len(core_img)

        meta = {"key": key, "kernel": kver, "fs_uuid": fs_uuid, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "build_seconds": round(time.monotonic() - t0, 1), "timings": timings,
                "recipe": lab.recipe()}
        with open(os.path.join(lab.images, "base-%s.json" % key), "w") as f:
            json.dump(meta, f, indent=2)
        os.chmod(disk, 0o444)
        blog.stage("cache", "image into %s, build root removed" % lab.images)
        os.rename(disk, image)
        safe_rmtree(work)
    except BaseException:
        try:
            safe_rmtree(work)
        except LabError as e:
            lab.log(str(e))
        raise
    lab.log("[build %4.0f s] base image %s built in %.0f s" % (blog.elapsed(), image, time.monotonic() - t0))
    return image


# ---------------------------------------------------------------------------
# Accelerator
# ---------------------------------------------------------------------------

def probe_kvm(lab: Lab, timeout: float = 20) -> tuple[bool, str]:
    """True if KVM can run a guest at native speed with -cpu host."""
    if not os.path.exists("/dev/kvm"):
        return False, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not accessible"
    os.makedirs(lab.run, exist_ok=True)
    probe = os.path.join(lab.run, "kvm-probe.img")
    with open(probe, "wb") as f:
        f.write(kvm_probe_bootsector())
    argv = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none",
            "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "64",
            "-drive", "file=%s,format=raw,if=ide" % lab.lab_path(probe),
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    try:
        r = subprocess.run(lab.in_qemu_root(argv), stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "a KVM test guest did not finish in %ss (KVM emulates instead of running)" % timeout
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass
    if r.returncode == 3:
        return True, "KVM runs guests natively"
    err = (r.stderr or "").strip().splitlines()
    return False, "KVM test guest failed (exit %d): %s" % (r.returncode, err[-1] if err else "")


def choose_accel(lab: Lab) -> tuple[str, str]:
    want = (lab.env.get("NFV_DPDK_LAB_ACCEL") or "auto").lower()
    if want in ("kvm", "tcg"):
        return want, "forced by NFV_DPDK_LAB_ACCEL"
    if want != "auto":
        raise LabError("NFV_DPDK_LAB_ACCEL must be auto, kvm or tcg", EXIT_USAGE)
    ok, why = probe_kvm(lab)
    return ("kvm" if ok else "tcg"), why


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

def cmd_build(lab: Lab, args) -> int:
    with lab.lock(build=True):
        t0 = time.monotonic()
        image = ensure_built(lab, force=args.force)
        lab.log("build done in %.0f s" % (time.monotonic() - t0))
        emit(image)
    return EXIT_OK


def console_tail(lab: Lab, n: int = 25) -> str:
    try:
        with open(lab.console, "rb") as f:
            data = f.read()[-8000:].decode("utf-8", "replace")
        return "\n".join(data.splitlines()[-n:])
    except OSError:
        return "(no console log)"


def wait_ssh(lab: Lab, port: int, pid: int | None, timeout: float, heartbeat: float = 30.0) -> float:
    t0 = time.monotonic()
    deadline = t0 + timeout
    said = t0
    while time.monotonic() < deadline:
        if pid is not None and lab.pid() is None:
            raise LabError("QEMU exited while booting; console tail:\n" + console_tail(lab), EXIT_BOOT)
        if lab.ssh_ok(port, timeout=max(5, min(25, deadline - time.monotonic()))):
            return time.monotonic() - t0
        if time.monotonic() - said >= heartbeat:
            said = time.monotonic()
            last = [ln.strip() for ln in console_tail(lab, 10).splitlines() if ln.strip()]
            lab.log("no SSH yet after %.0f s of at most %.0f s; console: %s"
                    % (said - t0, timeout, last[-1][:120] if last else "(empty)"))
        time.sleep(2)
    raise LabError("no SSH on 127.0.0.1:%d after %.0f s (NFV_DPDK_LAB_BOOT_TIMEOUT); console %s, tail:\n%s"
                   % (port, timeout, lab.console, console_tail(lab)), EXIT_BOOT)


def write_inventory(lab: Lab, port: int) -> None:
    tmp = lab.inventory + ".tmp"
    with open(tmp, "w") as f:
        f.write(render_inventory(ssh_port=port, private_key=lab.key))
    os.replace(tmp, lab.inventory)


def cmd_up(lab: Lab, args) -> int:
    with lab.lock():
        pid = lab.pid()
        state = lab.state()
        if pid and args.fresh:
            do_down(lab)
            pid = None
        if pid:
            port = state.get("ssh_port")
            if port and lab.ssh_ok(port):
                write_inventory(lab, port)
                lab.log("lab node already running (pid %d, ssh 127.0.0.1:%d)" % (pid, port))
                emit(lab.inventory)
                return EXIT_OK
            if port:
                lab.log("lab node running (pid %d) but SSH not answering yet; waiting for SSH on "
                        "127.0.0.1:%d (at most %d s)" % (pid, port, lab.boot_timeout))
                took = wait_ssh(lab, port, pid, lab.boot_timeout)
                write_inventory(lab, port)
                lab.log("SSH up after %.0f s more" % took)
                emit(lab.inventory)
                return EXIT_OK
            raise LabError("QEMU pid %d is running without lab state; run 'labctl down'" % pid)

        with lab.lock(build=True):
            image = ensure_built(lab)
        pid, port, accel = start_node(lab, image, state, args.fresh)
        lab.log("QEMU pid %d, waiting for SSH on 127.0.0.1:%d (at most %d s)" % (pid, port, lab.boot_timeout))
        took = wait_ssh(lab, port, pid, lab.boot_timeout)
        st = lab.state()
        st["boot_to_ssh_s"] = round(took, 1)
        lab.save_state(st)
        write_inventory(lab, port)
        lab.log("lab node up: boot to SSH %.0f s (%s); inventory %s" % (took, accel, lab.inventory))
        emit(lab.inventory)
        return EXIT_OK


def start_node(lab: Lab, image: str, state: dict, fresh: bool) -> tuple[int, int, str]:
    """Start QEMU (daemonized) on an overlay of image: (pid, ssh port, accelerator)."""
    os.makedirs(lab.run, exist_ok=True)
    base_in_lab = lab.lab_path(image)
    if fresh or state.get("base") != base_in_lab:
        for p in (lab.overlay,):
            if os.path.exists(p):
                os.unlink(p)
    if not os.path.exists(lab.overlay):
        run(lab.in_qemu_root(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base_in_lab,
                              "-F", "raw", lab.lab_path(lab.overlay)]), timeout=120)
    for p in (lab.pidfile, lab.qmp):
        if os.path.exists(p):
            os.unlink(p)
    accel, why = choose_accel(lab)
    lab.log("accelerator: %s (%s)" % (accel, why))
    preferred = int(lab.env.get("NFV_DPDK_LAB_SSH_PORT") or DEFAULT_SSH_PORT)
    port = pick_port(preferred)
    if port != preferred:
        lab.log("port %d is busy, using %d" % (preferred, port))
    with open(lab.console, "w"):
        pass  # a fresh console log per boot
    argv = qemu_argv(accel=accel, ssh_port=port, overlay=lab.lab_path(lab.overlay),
                     console=lab.lab_path(lab.console), qmp=lab.lab_path(lab.qmp),
                     pidfile=lab.lab_path(lab.pidfile))
    with open(os.path.join(lab.run, "qemu.cmdline"), "w") as f:
        f.write(shlex.join(argv) + "\n")
    r = subprocess.run(lab.in_qemu_root(argv), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise LabError("QEMU failed to start (exit %d):\n%s" % (r.returncode, r.stderr.strip()), EXIT_BOOT)
    pid = None
    for _ in range(50):
        pid = lab.pid()
        if pid:
            break
        time.sleep(0.1)
    if not pid:
        raise LabError("QEMU started but wrote no pid file %s" % lab.pidfile, EXIT_BOOT)
    lab.save_state({"pid": pid, "ssh_port": port, "accel": accel, "base": base_in_lab,
                    "image": image, "started": time.time(), "overlay": lab.overlay})
    return pid, port, accel


def qmp_command(path: str, command: str, timeout: float = 10) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            f = s.makefile("rw")
            f.readline()  # greeting
            f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
            f.flush()
            f.readline()
            f.write(json.dumps({"execute": command}) + "\n")
            f.flush()
            f.readline()
            return True
    except OSError:
        return False


def wait_pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.5)
    return not os.path.exists("/proc/%d" % pid)


def do_down(lab: Lab) -> None:
    pid = lab.pid()
    port = lab.state().get("ssh_port")
    if pid:
        t0 = time.monotonic()
        lab.log("powering off the lab node (pid %d, at most %d s)" % (pid, lab.down_timeout))
        asked = False
        if port:
            try:
                subprocess.run(lab.ssh_base(port, 5) + ["systemctl poweroff"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
                asked = True
            except subprocess.TimeoutExpired:
                pass
        if not asked or not wait_pid_gone(pid, min(15, lab.down_timeout)):
            qmp_command(lab.qmp, "system_powerdown")
        if not wait_pid_gone(pid, max(1, lab.down_timeout - (time.monotonic() - t0))):
            lab.log("graceful poweroff timed out: SIGTERM")
            os.kill(pid, signal.SIGTERM)
            if not wait_pid_gone(pid, 10):
                lab.log("SIGKILL")
                os.kill(pid, signal.SIGKILL)
                wait_pid_gone(pid, 10)
        lab.log("lab node stopped in %.0f s" % (time.monotonic() - t0))
    else:
        lab.log("lab node is not running")
    for p in (lab.overlay, lab.pidfile, lab.qmp, lab.state_file):
        if os.path.exists(p):
            os.unlink(p)


def cmd_down(lab: Lab, args) -> int:
    with lab.lock():
        do_down(lab)
    return EXIT_OK


def require_running(lab: Lab) -> int:
    pid = lab.pid()
    port = lab.ssh_port()
    if not pid or not port:
        raise LabError("the lab node is not running (labctl up)", EXIT_NOT_RUNNING)
    return port


def cmd_ssh(lab: Lab, args) -> int:
    port = require_running(lab)
    cmd = lab.ssh_base(port)
    if not args.command:
        cmd[cmd.index("BatchMode=yes")] = "BatchMode=no"
        cmd.insert(1, "-t")
    else:
        cmd += [shlex.join(args.command) if len(args.command) > 1 else args.command[0]]
    # the remote command's output is what the caller of 'labctl ssh' asked for
    RESULTS.restore()
    os.execvp(cmd[0], cmd)
    return EXIT_ERROR


def cmd_status(lab: Lab, args) -> int:
    pid = lab.pid()
    st = lab.state()
    port = st.get("ssh_port") if pid else None
    out = {
        "running": bool(pid),
        "pid": pid,
        "ssh_port": port,
        "ssh_reachable": bool(port and lab.ssh_ok(port, timeout=20)),
        "accel": st.get("accel") if pid else None,
        "image": st.get("image") if pid else None,
        "base_image": lab.base_image() if os.path.exists(lab.key) else None,
        "base_image_exists": os.path.exists(lab.base_image()) if os.path.exists(lab.key) else False,
        "overlay": lab.overlay if os.path.exists(lab.overlay) else None,
        "uptime_s": round(time.time() - st["started"], 1) if pid and st.get("started") else None,
        "boot_to_ssh_s": st.get("boot_to_ssh_s") if pid else None,
        "inventory": lab.inventory if os.path.exists(lab.inventory) else None,
        "console": lab.console,
        "cache": lab.cache,
    }
    emit(json.dumps(out, indent=2))
    return EXIT_OK if pid else EXIT_NOT_RUNNING


def cmd_inventory(lab: Lab, args) -> int:
    if not os.path.exists(lab.inventory):
        raise LabError("no inventory yet: run 'labctl up'", EXIT_NOT_RUNNING)
    emit(lab.inventory)
    return EXIT_OK


def cmd_console(lab: Lab, args) -> int:
    emit(lab.console)
    return EXIT_OK if os.path.exists(lab.console) else EXIT_NOT_RUNNING


def cmd_reboot_wait(lab: Lab, args) -> int:
    port = require_running(lab)
    boot_id = lab.ssh_capture(port, "cat /proc/sys/kernel/random/boot_id")
    if not boot_id:
        raise LabError("cannot reach the lab node over SSH", EXIT_BOOT)
    t0 = time.monotonic()
    lab.log("rebooting the lab node; waiting for a new boot id over SSH (at most %d s)" % lab.boot_timeout)
    try:
        subprocess.run(lab.ssh_base(port, 10) + ["systemctl reboot"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    except subprocess.TimeoutExpired:
        pass
    deadline = t0 + lab.boot_timeout
    said = t0
    while time.monotonic() < deadline:
        if time.monotonic() - said >= 30:
            said = time.monotonic()
            lab.log("not back yet after %.0f s of at most %d s" % (said - t0, lab.boot_timeout))
        if lab.pid() is None:
            raise LabError("QEMU exited during the reboot; console tail:\n" + console_tail(lab), EXIT_BOOT)
        new = lab.ssh_capture(port, "cat /proc/sys/kernel/random/boot_id", timeout=30)
        if new and new != boot_id:
            took = time.monotonic() - t0
            lab.log("rebooted in %.0f s" % took)
            emit(json.dumps({"reboot_s": round(took, 1)}))
            return EXIT_OK
        time.sleep(3)
    raise LabError("the node did not come back within %d s; console tail:\n%s"
                   % (lab.boot_timeout, console_tail(lab)), EXIT_BOOT)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="labctl", description="nfv.dpdk QEMU lab node: a bare-metal DPDK "
                                "worker (2 NUMA nodes, 2 SR-IOV igb NICs, IOMMU) for playbooks and Molecule")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or reuse the cached) base image and QEMU root")
    b.add_argument("--force", action="store_true", help="rebuild the image even if cached")
    u = sub.add_parser("up", help="boot the lab node (building first if needed) and wait for SSH")
    u.add_argument("--fresh", action="store_true", help="discard the overlay (and stop a running node)")
    sub.add_parser("down", help="power off the node (bounded), then kill; remove the overlay")
    s = sub.add_parser("ssh", help="ssh to the node; with a command, run it")
    s.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("status", help="JSON status; exit 0 if running, 7 if not")
    sub.add_parser("inventory", help="print the path of the Ansible inventory")
    sub.add_parser("console", help="print the path of the serial console log")
    sub.add_parser("reboot-wait", help="reboot the node and wait until SSH is back")
    args = p.parse_args(argv)
    handler = {"build": cmd_build, "up": cmd_up, "down": cmd_down, "ssh": cmd_ssh,
               "status": cmd_status, "inventory": cmd_inventory, "console": cmd_console,
               "reboot-wait": cmd_reboot_wait}[args.cmd]
    RESULTS.open()
    try:
        return handler(Lab(), args)
    except LabError as e:
        print("labctl: error: %s" % e, file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("labctl: interrupted", file=sys.stderr)
        return 130
    finally:
        RESULTS.restore()
