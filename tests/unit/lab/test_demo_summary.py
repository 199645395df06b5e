"""lab/demo_summary.py: the demo's verdict lines come only from this run's verdict records."""

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

LAB_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab"))
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location("demo_summary", os.path.join(LAB_DIR, "demo_summary.py"))
demo_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo_summary)

INVENTORY = {
    "_meta": {"hostvars": {}},
    "all": {"children": ["ungrouped", "dpdk_nodes"]},
    "dpdk_nodes": {"hosts": ["node-a"], "children": ["rack2"]},
    "rack2": {"hosts": ["node-b"]},
    "ungrouped": {"hosts": ["other"]},
}


def stamp(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def record(host, passed=True, written=None, **kw):
    data = {"host": host, "k8s_node": None, "backend": "podman", "passed": passed,
            "reasons": [] if passed else ["received 0 packets (minimum 1)"],
            "rx_packets": 4200000, "tx_packets": 4200100, "mpps": 0.21, "duration": 20.0,
            "duration_source": "testpmd", "written_at": stamp(time.time() if written is None else written)}
    data.update(kw)
    return data


def write(directory, host, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, host + ".json"), "w") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))


def run_cli(tmp_path, *args):
    inv = tmp_path / "inventory.json"
    if not inv.exists():
        inv.write_text(json.dumps(INVENTORY))
    return subprocess.run([sys.executable, os.path.join(LAB_DIR, "demo_summary.py"), args[0],
                           "--inventory-json", str(inv)] + list(args[1:]),
                          capture_output=True, text=True, timeout=60, check=False)


def test_group_hosts_follow_child_groups():
    assert demo_summary.group_hosts(INVENTORY, "dpdk_nodes") == ["node-a", "node-b"]
    assert demo_summary.group_hosts(INVENTORY, "missing") == []
    assert demo_summary.group_hosts({"dpdk_nodes": {}}, "dpdk_nodes") == []


def test_all_records_passed(tmp_path):
    since = time.time() - 60
    for host in ("node-a", "node-b"):
        write(tmp_path, host, record(host))
    code, lines = demo_summary.report(["node-a", "node-b"], str(tmp_path), since, now=since + 125)
    assert code == 0
    assert lines[0] == ("node-a: testpmd verdict passed: rx 4200000 / tx 4200100 packets, 0.210 Mpps, "
                        "testpmd ran 20.0 s (podman)")
    assert lines[-1] == "2 of 2 hosts prepared and their testpmd verdict passed; demo passed in 125 s"


def test_failed_record_fails_with_its_reasons(tmp_path):
    since = time.time() - 60
    write(tmp_path, "node-a", record("node-a"))
    write(tmp_path, "node-b", record("node-b", passed=False, rx_packets=0, k8s_node="worker-7"))
    code, lines = demo_summary.report(["node-a", "node-b"], str(tmp_path), since)
    assert code == 1
    assert lines[1].startswith("node-b: testpmd verdict FAILED: received 0 packets (minimum 1); rx 0 /")
    assert "k8s node worker-7" in lines[1]
    assert lines[-1].startswith("1 of 2 hosts prepared and their testpmd verdict passed; demo FAILED")


def test_missing_record_fails(tmp_path):
    write(tmp_path, "node-a", record("node-a"))
    code, lines = demo_summary.report(["node-a", "node-b"], str(tmp_path), time.time() - 60)
    assert code == 1
    assert lines[1] == "node-b: NO testpmd verdict recorded (the play did not reach the verdict)"
    # no record directory at all (the play never reached any verdict)
    code, lines = demo_summary.report(["node-a"], str(tmp_path / "absent"), time.time() - 60)
    assert code == 1 and "NO testpmd verdict" in lines[0]


def test_stale_record_from_an_earlier_run_fails(tmp_path):
    since = time.time()
    write(tmp_path, "node-a", record("node-a", written=since - 3600))
    code, lines = demo_summary.report(["node-a"], str(tmp_path), since)
    assert code == 1
    assert lines[0].startswith("node-a: STALE verdict record")
    # a record written in the run's first second is of this run
    write(tmp_path, "node-a", record("node-a", written=int(since)))
    assert demo_summary.report(["node-a"], str(tmp_path), since)[0] == 0


def test_no_host_at_all_fails(tmp_path):
    code, lines = demo_summary.report([], str(tmp_path), time.time())
    assert code == 1
    assert lines == ["no host in the inventory group: nothing was prepared or checked"]


# The records are made when the test runs, not when it is collected: a record stamped at collection
# time is already "before this run" when the suite takes longer than the test's 60 s window.
@pytest.mark.parametrize("make_content, message", [
    (lambda: "{not json", "unreadable verdict record"),
    (lambda: "[]", "is not a JSON object"),
    (lambda: json.dumps(record("node-b")), "is for host 'node-b'"),
    (lambda: json.dumps(record("node-a", written_at="yesterday")), "no valid written_at"),
    (lambda: json.dumps(record("node-a", passed="true")), "testpmd verdict FAILED"),
], ids=["not-json", "not-object", "other-host", "bad-written-at", "passed-not-bool"])
def test_bad_records_fail(tmp_path, make_content, message):
    write(tmp_path, "node-a", make_content())
    code, lines = demo_summary.report(["node-a"], str(tmp_path), time.time() - 60)
    assert code == 1
    assert message in lines[0]


def test_cli_hosts_and_report(tmp_path):
    r = run_cli(tmp_path, "hosts")
    assert (r.returncode, r.stdout) == (0, "demo: hosts in dpdk_nodes: node-a, node-b\n")
    r = run_cli(tmp_path, "hosts", "--group", "nothing")
    assert r.returncode == 1 and "no host in group nothing" in r.stderr
    records = tmp_path / "verdicts"
    write(records, "node-a", record("node-a"))
    write(records, "node-b", record("node-b"))
    r = run_cli(tmp_path, "report", "--records", str(records), "--since", str(time.time() - 30))
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[-1].startswith("demo: 2 of 2 hosts prepared and their testpmd verdict passed")
    r = run_cli(tmp_path, "report", "--records", str(records), "--since", str(time.time() + 5))
    assert r.returncode == 1 and "STALE" in r.stdout


def test_cli_empty_inventory_of_an_unparsed_source(tmp_path):
    # what ansible-inventory --list prints for an inventory path it could not parse
    (tmp_path / "inventory.json").write_text(json.dumps({"_meta": {"hostvars": {}},
                                                         "all": {"children": ["ungrouped"]}}))
    r = run_cli(tmp_path, "hosts")
    assert r.returncode == 1 and "refusing to run a playbook" in r.stderr
    r = run_cli(tmp_path, "report", "--records", str(tmp_path), "--since", "0")
    assert r.returncode == 1 and "no host in the inventory group" in r.stdout
    (tmp_path / "inventory.json").write_text("")
    assert run_cli(tmp_path, "hosts").returncode == 1
