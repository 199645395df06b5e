#!/usr/bin/env python3
"""The verdict lines of `make demo`, derived from what the playbook recorded (stdlib only).

  demo_summary.py hosts  --inventory-json FILE [--group dpdk_nodes]
      print the hosts of the group (from `ansible-inventory --list`); exit 1 when it has none,
      so the demo never runs a playbook that would only say "skipping: no hosts matched".
  demo_summary.py report --inventory-json FILE [--group dpdk_nodes] --records DIR --since EPOCH
      one line per host from DIR/<host>.json, written by the dpdk_testpmd role
      (dpdk_testpmd_report_dir); exit 1 when there is no host, a host has no record, a record
      is older than EPOCH (not from this run), unreadable, for another host, or failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

EXIT_OK = 0
EXIT_FAILED = 1


def group_hosts(inventory: dict, group: str) -> list[str]:
    """Hosts of group and of its child groups, in inventory order, from `ansible-inventory --list`."""
    hosts: list[str] = []
    seen_groups: set[str] = set()

    def walk(name: str) -> None:
        if name in seen_groups:
            return
        seen_groups.add(name)
        entry = inventory.get(name) or {}
        for host in entry.get("hosts") or []:
            if host not in hosts:
                hosts.append(host)
        for child in entry.get("children") or []:
            walk(child)

    walk(group)
    return hosts


def parse_time(text: str) -> float:
    """Epoch seconds of a record's written_at (UTC, %Y-%m-%dT%H:%M:%SZ)."""
    stamp = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def _number(value, fmt: str) -> str:
    return "n/a" if value is None else fmt % value


def judge_record(host: str, path: str, since: float) -> tuple[bool, str]:
    """(passed, line) for one host's record; passed only for a fresh, readable, passed verdict."""
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        return False, "%s: NO testpmd verdict recorded (the play did not reach the verdict)" % host
    except (OSError, ValueError) as e:
        return False, "%s: unreadable verdict record %s: %s" % (host, path, e)
    if not isinstance(record, dict):
        return False, "%s: verdict record %s is not a JSON object" % (host, path)
    if record.get("host") != host:
        return False, "%s: verdict record %s is for host %r" % (host, path, record.get("host"))
    try:
        written = parse_time(str(record.get("written_at")))
    except ValueError:
        return False, "%s: verdict record %s has no valid written_at (%r)" % (host, path, record.get("written_at"))
    # written_at has whole seconds: a record of this run is not older than the run's start second
    if written < int(since):
        return False, "%s: STALE verdict record %s, written %s before this run started" % (
            host, path, record.get("written_at"))
    node = record.get("k8s_node")
    figures = "rx %s / tx %s packets, %s Mpps, testpmd ran %s s (%s%s)" % (
        _number(record.get("rx_packets"), "%d"), _number(record.get("tx_packets"), "%d"),
        _number(record.get("mpps"), "%.3f"), _number(record.get("duration"), "%.1f"),
        record.get("backend") or "unknown backend", ", k8s node %s" % node if node else "")
    if record.get("passed") is not True:
        reasons = record.get("reasons") or ["no reason recorded"]
        return False, "%s: testpmd verdict FAILED: %s; %s" % (host, "; ".join(str(r) for r in reasons), figures)
    return True, "%s: testpmd verdict passed: %s" % (host, figures)


def report(hosts: list[str], records: str, since: float, now: float | None = None) -> tuple[int, list[str]]:
    now = time.time() if now is None else now
    if not hosts:
        return EXIT_FAILED, ["no host in the inventory group: nothing was prepared or checked"]
    lines = []
    passed = 0
    for host in hosts:
        ok, line = judge_record(host, os.path.join(records, "%s.json" % host), since)
        passed += ok
        lines.append(line)
    verdict = "passed" if passed == len(hosts) else "FAILED"
    lines.append("%d of %d hosts prepared and their testpmd verdict passed; demo %s in %.0f s"
                 % (passed, len(hosts), verdict, now - since))
    return (EXIT_OK if passed == len(hosts) else EXIT_FAILED), lines


def load_inventory(path: str) -> dict:
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError("not the JSON of ansible-inventory --list")
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="demo_summary", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("hosts", "report"):
        s = sub.add_parser(name)
        s.add_argument("--inventory-json", required=True, help="output of ansible-inventory --list")
        s.add_argument("--group", default="dpdk_nodes")
        if name == "report":
            s.add_argument("--records", required=True, help="dpdk_testpmd_report_dir of this run")
            s.add_argument("--since", required=True, type=float, help="epoch seconds when this run started")
    args = p.parse_args(argv)
    try:
        hosts = group_hosts(load_inventory(args.inventory_json), args.group)
    except (OSError, ValueError) as e:
        print("demo: cannot read the inventory %s: %s" % (args.inventory_json, e), file=sys.stderr)
        return EXIT_FAILED
    if args.cmd == "hosts":
        if not hosts:
            print("demo: the inventory has no host in group %s: refusing to run a playbook that "
                  "would skip every play" % args.group, file=sys.stderr)
            return EXIT_FAILED
        print("demo: hosts in %s: %s" % (args.group, ", ".join(hosts)))
        return EXIT_OK
    code, lines = report(hosts, args.records, args.since)
    for line in lines:
        print("demo: " + line)
    return code


if __name__ == "__main__":
    sys.exit(main())
