"""`make demo` refuses a broken inventory before any playbook runs (issue 14).

Runs the real demo recipe with a stand-in for lab/labctl (LABCTL=...), so nothing boots.
"""

import os
import shutil
import subprocess
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

pytestmark = pytest.mark.skipif(
    not shutil.which("make") or not os.access(os.path.join(ROOT, ".venv", "bin", "ansible-inventory"), os.X_OK),
    reason="needs make and the project's virtualenv (make venv)")


def fake_labctl(tmp_path, stdout_text):
    script = tmp_path / "labctl"
    script.write_text("#!/bin/sh\nprintf '%s' " + "'" + stdout_text.replace("'", "'\\''") + "'\n"
                      "echo 'labctl: (stand-in) progress on stderr' >&2\n")
    script.chmod(0o755)
    return str(script)


def make_demo(tmp_path, labctl):
    # -o: use the virtualenv and host packages as they are; TMPDIR: the run's record directory
    env = dict(os.environ, TMPDIR=str(tmp_path))
    return subprocess.run(["make", "-s", "-C", ROOT, "-o", "host-deps", "-o", "venv", "demo",
                           "LABCTL=" + labctl], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_stray_text_before_the_inventory_path_is_refused(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  children:\n    dpdk_nodes:\n      hosts:\n        lab-node: {}\n")
    # the reported bug: a child of the image build wrote to labctl's stdout
    r = make_demo(tmp_path, fake_labctl(tmp_path, "update-initramfs: Generating /boot/initrd.img\n%s\n" % inventory))
    assert r.returncode != 0
    assert "labctl up did not print the path of an inventory file" in r.stderr
    assert "PLAY" not in r.stdout and "passed" not in r.stdout


def test_inventory_without_dpdk_nodes_hosts_is_refused(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  children:\n    dpdk_nodes:\n      hosts: {}\n    other:\n      hosts:\n"
                         "        somewhere: {}\n")
    r = make_demo(tmp_path, fake_labctl(tmp_path, "%s\n" % inventory))
    assert r.returncode != 0
    assert "no host in group dpdk_nodes" in r.stderr
    assert "PLAY" not in r.stdout and "passed" not in r.stdout


def test_unparsable_inventory_is_refused(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(textwrap.dedent("""\
        all:
          children: [this is: not, an inventory
        """))
    r = make_demo(tmp_path, fake_labctl(tmp_path, "%s\n" % inventory))
    assert r.returncode != 0
    assert "PLAY" not in r.stdout and "passed" not in r.stdout
