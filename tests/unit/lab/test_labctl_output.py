"""labctl's stdout carries only its results; children's output goes to stderr or the build log.

Reproduces issue 14: text a child process of the image build wrote to labctl's stdout
became part of the inventory path that `make demo` read with inventory=$(lab/labctl up).
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

LAB_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab"))
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location("labctl_output_under_test", os.path.join(LAB_DIR, "labctl.py"))
labctl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labctl)

# Run in a child Python so that the test sees labctl's real file descriptors (as make does).
# Every way a build step can write to stdout: a child inheriting fd 1, os.system, print(),
# a child through labctl's run() helper, and one through the build log runner.
DRIVER = textwrap.dedent('''
    import importlib.util, os, subprocess, sys
    spec = importlib.util.spec_from_file_location("labctl", os.path.join(sys.argv[1], "labctl.py"))
    labctl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(labctl)

    def noisy(tag):
        subprocess.run(["sh", "-c", "echo %s-child-stdout; echo %s-child-stderr >&2" % (tag, tag)], check=False)
        os.system("echo %s-os-system" % tag)
        print("%s-python-print" % tag)
        labctl.run(["sh", "-c", "echo %s-run-helper" % tag])

    def fake_ensure_built(lab, force=False, heartbeat=30.0):
        noisy("build")
        blog = labctl.BuildLog(lab, heartbeat=heartbeat)
        blog.stage("initramfs", "a fake stage")
        blog.run(["sh", "-c", "echo update-initramfs: Generating /boot/initrd.img-fake"], timeout=30)
        blog.close()
        image = os.path.join(lab.images, "base-fake.raw")
        os.makedirs(lab.images, exist_ok=True)
        open(image, "w").close()
        return image

    def fake_start_node(lab, image, state, fresh):
        noisy("boot")
        return os.getpid(), 2301, "tcg"

    labctl.ensure_built = fake_ensure_built
    labctl.start_node = fake_start_node
    labctl.wait_ssh = lambda lab, port, pid, timeout, heartbeat=30.0: 1.0
    sys.exit(labctl.main(sys.argv[2:]))
''')


def run_driver(tmp_path, *args):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, NFV_DPDK_LAB_CACHE=str(tmp_path / "cache"), NFV_DPDK_LAB_INSTANCE="t1",
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, str(driver), LAB_DIR] + list(args), env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_up_stdout_is_exactly_the_inventory_path_when_children_print(tmp_path):
    r = run_driver(tmp_path, "up")
    assert r.returncode == 0, r.stderr
    inventory = str(tmp_path / "cache" / "run-t1" / "inventory.yml")
    assert r.stdout == inventory + "\n"
    assert os.path.isfile(inventory)
    # what the children wrote is not lost: it went to stderr
    for tag in ("build", "boot"):
        for what in ("child-stdout", "child-stderr", "os-system", "python-print", "run-helper"):
            assert "%s-%s" % (tag, what) in r.stderr
    # the build log runner keeps its child's output in the log, and says where the log is
    assert "update-initramfs" not in r.stderr
    logs = os.listdir(tmp_path / "cache" / "logs")
    assert len(logs) == 1
    log = (tmp_path / "cache" / "logs" / logs[0]).read_text()
    assert "update-initramfs: Generating /boot/initrd.img-fake" in log
    assert str(tmp_path / "cache" / "logs" / logs[0]) in r.stderr
    assert "] initramfs: a fake stage" in r.stderr


def test_up_stdout_stays_empty_when_up_fails(tmp_path):
    (tmp_path / "cache").mkdir()
    # a lab instance name that labctl refuses: an error on stderr and nothing on stdout
    driver_env = dict(os.environ, NFV_DPDK_LAB_CACHE=str(tmp_path / "cache"), NFV_DPDK_LAB_INSTANCE="../x")
    r = subprocess.run([sys.executable, os.path.join(LAB_DIR, "labctl"), "up"], env=driver_env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == labctl.EXIT_USAGE
    assert r.stdout == ""
    assert "NFV_DPDK_LAB_INSTANCE" in r.stderr


def test_inventory_and_status_print_only_their_result(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, NFV_DPDK_LAB_CACHE=str(cache), NFV_DPDK_LAB_INSTANCE="t2")
    (cache / "run-t2").mkdir(parents=True)
    inventory = cache / "run-t2" / "inventory.yml"
    inventory.write_text("all: {}\n")
    r = subprocess.run([sys.executable, os.path.join(LAB_DIR, "labctl"), "inventory"], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert (r.returncode, r.stdout) == (0, str(inventory) + "\n")
    r = subprocess.run([sys.executable, os.path.join(LAB_DIR, "labctl"), "status"], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == labctl.EXIT_NOT_RUNNING
    status = json.loads(r.stdout)
    assert status["running"] is False and status["inventory"] == str(inventory)


def test_main_restores_stdout_in_process(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("NFV_DPDK_LAB_CACHE", str(tmp_path))
    monkeypatch.setattr(labctl, "cmd_console", lambda lab, args: (
        os.system("echo stray-from-os-system"), print("stray-print"), labctl.emit("/the/result"), 0)[-1])
    assert labctl.main(["console"]) == 0
    out, err = capfd.readouterr()
    assert out == "/the/result\n"
    assert "stray-from-os-system" in err and "stray-print" in err
    # after main, this process's stdout is its own again
    print("after")
    os.system("echo after-fd")
    out = capfd.readouterr().out
    assert out == "after\nafter-fd\n"


def test_build_log_heartbeat_and_failure_tail(tmp_path, capsys):
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path)})
    blog = labctl.BuildLog(lab, heartbeat=0.2)
    blog.stage("guest root and packages", "a slow child")
    blog.run(["sh", "-c", "echo Unpacking dpdk; sleep 1.2; echo done"], timeout=30)
    err = capsys.readouterr().err
    beats = [ln for ln in err.splitlines() if "still running" in ln]
    assert 2 <= len(beats) <= 8, err
    assert "guest root and packages: sh still running" in beats[0] and "Unpacking dpdk" in beats[0]
    blog.stage("initramfs")
    with pytest.raises(labctl.LabError) as e:
        blog.run(["sh", "-c", "echo the-reason >&2; exit 3"], timeout=30)
    assert e.value.code == labctl.EXIT_BUILD
    assert "initramfs failed (exit 3)" in str(e.value) and "the-reason" in str(e.value)
    assert blog.path in str(e.value)
    with pytest.raises(labctl.LabError) as e:
        blog.run(["sleep", "5"], timeout=0.5)
    assert "timed out" in str(e.value)
    blog.close()
    log = open(blog.path).read()
    assert "Unpacking dpdk" in log and "done" in log and "exit 3" in log


def test_ensure_built_reuses_a_cached_image_without_a_build_log(tmp_path, monkeypatch):
    lab = labctl.Lab({"NFV_DPDK_LAB_CACHE": str(tmp_path), "NFV_DPDK_LAB_MIRROR": "http://m/debian"})
    monkeypatch.setattr(labctl.Lab, "pubkey", lambda self: "ssh-ed25519 AAA k")
    os.makedirs(lab.qemu_root())
    open(os.path.join(lab.qemu_root(), ".nfv-dpdk-lab-complete"), "w").close()
    os.makedirs(lab.images)
    open(lab.base_image(), "w").close()
    assert labctl.ensure_built(lab) == lab.base_image()
    assert not os.path.exists(lab.logs)


def test_chroot_stages_make_up_the_recipe_script():
    stages = labctl.chroot_setup_stages()
    assert [name for name, _lines in stages] == ["GRUB core image", "systemd units", "initramfs", "machine-id reset"]
    script = labctl.chroot_setup_script()
    assert script == "\n".join(["set -e"] + [ln for _name, lines in stages for ln in lines]) + "\n"
    assert "update-initramfs -u -k all" in dict(stages)["initramfs"]
