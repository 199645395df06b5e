# -*- coding: utf-8 -*-
"""testpmd_stats / testpmd_verdict on real dpdk-testpmd 22.11 output captured on a 2-core Debian 12 host.

Fixtures in tests/unit/fixtures/testpmd/ (see README there for how each was captured).
"""

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.filter.testpmd import FilterModule
from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'testpmd')
FILTERS = FilterModule().filters()


def log(name):
    with open(os.path.join(FIXTURES, name + '.log')) as handle:
        return handle.read()


def stats(name, duration=None):
    return FILTERS['testpmd_stats'](log(name), duration)


def verdict(value, **kwargs):
    return FILTERS['testpmd_verdict'](value, **kwargs)


# -- parsing ------------------------------------------------------------------

def test_io_over_two_null_ports_counts_every_port_and_the_totals():
    result = stats('io_null', duration=8)
    assert result['forward_mode'] == 'io'
    assert result['forwarding'] == {'ports': 2, 'cores': 1, 'streams': 2}
    assert [port['port'] for port in result['ports']] == [0, 1]
    port0 = result['ports'][0]
    assert port0['rx_packets'] == 190252288 and port0['tx_packets'] == 190252288
    assert port0['rx_dropped'] == 0 and port0['tx_dropped'] == 0
    assert port0['mac'] == '0E:55:2C:88:7E:A6' and port0['socket'] == 0
    assert result['totals']['rx_packets'] == 380504576 and result['totals']['tx_total'] == 380504576
    assert result['has_totals'] and result['clean_exit']
    assert result['errors'] == [] and result['eal_errors'] == []
    assert result['duration'] == 8 and result['duration_source'] == 'argument'
    assert port0['rx_mpps'] == pytest.approx(190252288 / 8 / 1e6)
    assert result['totals']['mpps'] == pytest.approx(380504576 / 8 / 1e6)
    # The last periodic NIC statistics block and testpmd's own per-second rates.
    assert port0['rx_missed'] == 0 and port0['rx_nombuf'] == 0
    assert port0['rx_pps_avg'] > 20000000
    assert result['stats_blocks'] >= 3


def test_mac_mode_records_streams_peers_and_sockets():
    result = stats('mac_null')
    assert result['forward_mode'] == 'mac'
    streams = result['lcores'][0]['streams']
    assert result['lcores'][0]['lcore'] == 1 and result['lcores'][0]['socket'] == 0
    assert [(s['rx_port'], s['tx_port'], s['peer']) for s in streams] == [
        (0, 1, '02:00:00:00:00:11'), (1, 0, '02:00:00:00:00:10')]
    assert result['numa']['aligned'] is True
    assert result['numa']['port_sockets'] == {'0': 0, '1': 0}


def test_without_duration_rates_are_unknown_not_invented():
    result = stats('mac_null')
    assert result['duration'] is None and result['duration_source'] is None
    assert result['totals']['mpps'] is None
    assert result['ports'][0]['rx_mpps'] is None
    assert result['totals']['rx_packets'] > 0


def test_txonly_and_rxonly_count_one_direction():
    tx = stats('txonly_null', 4)
    assert tx['forward_mode'] == 'txonly'
    assert tx['totals']['rx_packets'] == 0 and tx['totals']['tx_packets'] == 118806784
    assert tx['totals']['mpps'] == tx['totals']['tx_mpps']
    rx = stats('rxonly_null', 4)
    assert rx['forward_mode'] == 'rxonly'
    assert rx['totals']['tx_packets'] == 0 and rx['totals']['rx_packets'] == 324673824
    assert rx['totals']['mpps'] == rx['totals']['rx_mpps']


def test_af_packet_link_lines_are_reported_per_port():
    result = stats('io_af_packet')
    assert result['link_lines'] == ['Port 0 Link up at 10 Gbps FDX Fixed', 'Port 1 Link up at 10 Gbps FDX Fixed']
    assert all(port['link_up'] for port in result['ports'])
    assert result['totals']['rx_packets'] == 2268096
    assert result['totals']['tx_packets'] == 2268160


@pytest.mark.parametrize('name,expected', [
    ('eal_nohuge', ['EAL: FATAL: Cannot get hugepage information.', 'EAL: Cannot get hugepage information.',
                    'EAL: Error - exiting with code: 1', 'Cause: Cannot init EAL: Permission denied']),
    ('eal_bad_vdev', ['EAL: failed to parse device "net_bogus0"', "EAL: Unable to parse device 'net_bogus0'",
                      'EAL: Error - exiting with code: 1', 'Cause: Cannot init EAL: No such device']),
])
def test_failed_eal_init_is_a_list_of_errors_and_no_statistics(name, expected):
    result = stats(name)
    assert result['errors'] == expected
    assert result['eal_errors'] == [line for line in expected if line.startswith('EAL:')]
    assert result['has_totals'] is False and result['totals'] is None and result['ports'] == []
    assert result['clean_exit'] is False


def test_no_probed_device_is_an_error_even_though_testpmd_prints_totals():
    result = stats('no_ports')
    assert result['errors'] == ['testpmd: No probed ethernet devices']
    assert result['has_totals'] and result['totals']['rx_packets'] == 0 and result['ports'] == []


def test_benign_eal_lines_are_not_errors():
    text = ('EAL: No free 1048576 kB hugepages reported on node 1\n'
            'EAL: No available 1048576 kB hugepages reported\n'
            'EAL: VFIO support initialized\nEAL: Using IOMMU type 1 (Type 1)\n'
            'EAL: Cannot set up DMA remapping, error 12 (Cannot allocate memory)\n')
    assert tp.parse_testpmd_log(text)['errors'] == ['EAL: Cannot set up DMA remapping, error 12 (Cannot allocate memory)']


def test_timestamps_give_the_forwarding_duration_and_launcher_lines_are_read():
    lines = [
        '2026-11-23T09:00:00.000000000+00:00 nfv.dpdk.testpmd: {"event": "start", "cpus": "0-1",'
        ' "cpu_nodes": {"0": 0, "1": 0}, "nics": [], "hugepages": {"node0": {"2048kB": {"total": 256, "free": 256}}}}',
        '2026-11-23T09:00:01.500000000+00:00 No commandline core given, start packet forwarding',
        '2026-11-23T09:00:11.500000000+00:00 Telling cores to stop...',
        '2026-11-23T09:00:11.600000000+00:00   +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++',
        '2026-11-23T09:00:11.600000000+00:00   RX-packets: 5000000        RX-dropped: 0             RX-total: 5000000',
        '2026-11-23T09:00:11.600000000+00:00   TX-packets: 5000000        TX-dropped: 0             TX-total: 5000000',
        '2026-11-23T09:00:11.600000000+00:00   ++++++++++++++++++++++++++++++++++++++++++++++++++++',
        '2026-11-23T09:00:11.700000000Z nfv.dpdk.testpmd: {"event": "exit", "rc": 124, "elapsed_s": 11.7}',
    ]
    result = tp.parse_testpmd_log(lines)
    assert result['duration'] == 10.0 and result['duration_source'] == 'log_timestamps'
    assert result['totals']['mpps'] == 0.5
    assert result['pod']['cpus'] == '0-1' and result['exit']['rc'] == 124
    assert result['numa']['cpu_nodes'] == {'0': 0, '1': 0}


def test_launcher_elapsed_is_the_last_resort_duration():
    text = log('io_null') + '\nnfv.dpdk.testpmd: {"event": "exit", "rc": 124, "elapsed_s": 8.0}\n'
    result = tp.parse_testpmd_log(text)
    assert result['duration_source'] == 'launcher' and result['duration'] == 8.0


def test_numa_mismatch_between_lcore_ports_and_nics():
    text = ('testpmd: create a new mbuf pool <mb_pool_1>: n=16384, size=2176, socket=1\n'
            'Configuring Port 0 (socket 0)\nConfiguring Port 1 (socket 1)\n'
            'Logical Core 1 (socket 0) forwards packets on 2 streams:\n'
            '  RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 1) peer=02:00:00:00:00:01\n'
            '  RX P=1/Q=0 (socket 1) -> TX P=0/Q=0 (socket 0) peer=02:00:00:00:00:00\n'
            'nfv.dpdk.testpmd: {"event": "start", "cpus": "0-1", "cpu_nodes": {"0": 0, "1": 0},'
            ' "nics": [{"pci": "0000:41:02.0", "numa_node": 0}, {"pci": "0000:81:02.0", "numa_node": 1},'
            ' {"pci": "0000:00:02.0", "numa_node": -1}]}\n')
    numa = tp.parse_testpmd_log(text)['numa']
    assert numa['aligned'] is False
    assert numa['nic_nodes'] == {'0000:41:02.0': 0, '0000:81:02.0': 1, '0000:00:02.0': -1}
    assert any('stream P0->P1' in item for item in numa['mismatches'])
    assert any('NIC 0000:81:02.0 on node 1' in item for item in numa['mismatches'])
    assert not any('0000:00:02.0' in item for item in numa['mismatches'])


def test_bad_input_names_the_problem():
    with pytest.raises(AnsibleFilterError, match='duration must be greater than 0'):
        FILTERS['testpmd_stats']('', 0)
    with pytest.raises(AnsibleFilterError, match='expects the log as a string'):
        FILTERS['testpmd_stats'](42)
    with pytest.raises(AnsibleFilterError, match='expects the output of testpmd_stats'):
        verdict({'x': 1})
    with pytest.raises(AnsibleFilterError, match='max_drop_ratio is a fraction'):
        verdict(stats('io_null'), max_drop_ratio=5)


def test_empty_log_parses_to_nothing():
    result = tp.parse_testpmd_log(None)
    assert result['has_totals'] is False and result['ports'] == [] and result['numa']['aligned'] is None


# -- verdict --------------------------------------------------------------------

def test_a_good_io_run_passes_with_figures():
    result = verdict(stats('io_null', 8), min_mpps=1, max_drop_ratio=0.001)
    assert result['passed'] is True and result['reasons'] == []
    figures = result['figures']
    assert figures['rx_packets'] == 380504576 and figures['drop_ratio'] == 0
    assert figures['mpps'] == pytest.approx(47.563072)
    assert [port['rx_packets'] for port in figures['ports']] == [190252288, 190252288]
    assert figures['numa_aligned'] is True
    assert result['thresholds']['require_rx'] and result['thresholds']['require_tx']


def test_rxonly_with_nothing_received_fails_although_testpmd_exited_cleanly():
    result = verdict(stats('rxonly_af_packet_zero', 4))
    assert result['passed'] is False
    assert result['reasons'] == ['received 0 packets in total (at least 1 required in rxonly mode)']


def test_one_way_modes_do_not_require_the_other_direction():
    assert verdict(stats('txonly_null', 4))['passed'] is True
    assert verdict(stats('rxonly_null', 4))['passed'] is True
    assert verdict(stats('txonly_null', 4), require_rx=True)['passed'] is False


def test_a_trickle_passes_the_packet_check_but_not_a_rate_threshold():
    tap = stats('rxonly_tap_zero', 4)
    assert verdict(tap)['passed'] is True
    failed = verdict(tap, min_mpps=0.1)
    assert failed['passed'] is False and 'under min_mpps 0.1' in failed['reasons'][0]
    assert verdict(tap, min_packets=1000)['reasons'] == ['received 6 packets in total (at least 1000 required in rxonly mode)']


def test_eal_failures_fail_with_every_error_line():
    result = verdict(stats('eal_nohuge'))
    assert result['passed'] is False
    assert 'error in the log: EAL: FATAL: Cannot get hugepage information.' in result['reasons']
    assert any('no "Accumulated forward statistics"' in reason for reason in result['reasons'])


def test_no_ports_fails():
    reasons = verdict(stats('no_ports'))['reasons']
    assert 'error in the log: testpmd: No probed ethernet devices' in reasons
    assert 'no ethernet port took part in forwarding' in reasons


def test_min_mpps_needs_a_duration():
    reasons = verdict(stats('io_null'), min_mpps=1)['reasons']
    assert reasons == ['min_mpps 1.0 set but the run duration is unknown, so no rate can be computed']
    assert verdict(stats('io_null', 8), min_mpps=100)['reasons'] == ['47.563 Mpps is under min_mpps 100.0']


def test_drops_over_the_ratio_fail_and_the_worse_direction_counts():
    text = log('io_af_packet').replace('TX-packets: 1134080        TX-dropped: 0 ', 'TX-packets: 1134080        TX-dropped: 5000 ')
    text = text.replace('TX-packets: 2268160        TX-dropped: 0', 'TX-packets: 2268160        TX-dropped: 10000')
    parsed = tp.parse_testpmd_log(text)
    assert parsed['totals']['tx_dropped'] == 10000
    result = verdict(parsed, max_drop_ratio=0.001)
    assert result['figures']['drop_ratio'] == pytest.approx(10000 / (2268160 + 10000.0), rel=1e-6)
    assert result['passed'] is False and result['reasons'][0].startswith('drop ratio 0.00439')
    assert verdict(parsed, max_drop_ratio=0.01)['passed'] is True


def test_port_with_no_traffic_fails_even_when_the_total_is_fine():
    text = log('io_af_packet').replace(
        '  RX-packets: 1134048        RX-dropped: 0             RX-total: 1134048\n'
        '  TX-packets: 1134080        TX-dropped: 0             TX-total: 1134080\n'
        '  ----------------------------------------------------------------------------\n\n'
        '  ---------------------- Forward statistics for port 1',
        '  RX-packets: 0        RX-dropped: 0             RX-total: 0\n'
        '  TX-packets: 1134080        TX-dropped: 0             TX-total: 1134080\n'
        '  ----------------------------------------------------------------------------\n\n'
        '  ---------------------- Forward statistics for port 1')
    result = verdict(tp.parse_testpmd_log(text))
    assert result['reasons'] == ['port 0 received 0 packets']


def test_link_down_and_bad_exit_code_fail():
    text = log('io_af_packet').replace('Port 1 Link up at 10 Gbps FDX Fixed', 'Port 1 Link down')
    text += '\nnfv.dpdk.testpmd: {"event": "exit", "rc": 139, "elapsed_s": 3}\n'
    reasons = verdict(tp.parse_testpmd_log(text))['reasons']
    assert 'port 1 link is down: Link down' in reasons
    assert 'testpmd exited with code 139 (0, or 124 when stopped by timeout, expected)' in reasons


def test_numa_alignment_is_enforced_only_when_required():
    text = log('mac_null').replace('RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0)', 'RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 1)')
    parsed = tp.parse_testpmd_log(text)
    assert parsed['numa']['aligned'] is False
    assert verdict(parsed)['passed'] is True
    assert verdict(parsed)['figures']['numa_aligned'] is False
    required = verdict(parsed, require_numa_alignment=True)
    assert required['passed'] is False
    assert required['reasons'] == ['NUMA mismatch: stream P0->P1: RX port 0 on node 0, TX port 1 on node 1, lcore 1 on node 0']
    assert verdict(tp.parse_testpmd_log('Bye...'), require_numa_alignment=True)['reasons'][-1].startswith(
        'NUMA alignment required but the log holds no NUMA placement')


def test_interactive_testpmd_forwards_from_its_start_command_to_the_stop_line_after_its_prompt():
    """The launcher's forward barrier runs testpmd with -i: no "start packet forwarding" line, the start command
    echoed after the prompt, and the stop line printed after the prompt that followed it (testpmd 22.11, measured)."""
    lines = [
        '2026-11-23T09:00:00.000000000Z Checking link statuses...',
        '2026-11-23T09:00:00.100000000Z Done',
        '2026-11-23T09:00:04.000000000Z testpmd> start tx_first\r',
        '2026-11-23T09:00:04.000000000Z io packet forwarding - ports=2 - cores=1 - streams=2 - NUMA support enabled, MP allocation mode: native',
        '2026-11-23T09:00:09.000000000Z testpmd> Telling cores to stop...',
        '2026-11-23T09:00:09.000000000Z Waiting for lcores to finish...',
        '2026-11-23T09:00:09.100000000Z   +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++',
        '2026-11-23T09:00:09.100000000Z   RX-packets: 78388160       RX-dropped: 0             RX-total: 78388160',
        '2026-11-23T09:00:09.100000000Z   TX-packets: 78388160       TX-dropped: 0             TX-total: 78388160',
        '2026-11-23T09:00:09.100000000Z   ++++++++++++++++++++++++++++++++++++++++++++++++++++',
        '2026-11-23T09:00:09.200000000Z Bye...',
    ]
    result = tp.parse_testpmd_log(lines)
    assert result['duration'] == 5.0 and result['duration_source'] == 'log_timestamps'
    assert result['totals']['rx_packets'] == 78388160 and result['forward_mode'] == 'io' and result['clean_exit'] is True
    # A bare prompt, or another command, is not a start.
    assert tp.parse_testpmd_log(['2026-11-23T09:00:00Z testpmd> ', '2026-11-23T09:00:04Z testpmd> show port stats all',
                                 '2026-11-23T09:00:09Z testpmd> Telling cores to stop...'])['duration_source'] != 'log_timestamps'


def test_summary_lines_report_ports_total_numa_and_verdict():
    lines = verdict(stats('io_null', 8))['summary']
    assert lines[0] == ('port 0: RX 190252288 packets (23.782 Mpps), TX 190252288 packets (23.782 Mpps), '
                        'RX dropped 0, TX dropped 0, RX missed 0')
    assert lines[2] == 'total: RX 380504576 packets, TX 380504576 packets, 47.563 Mpps over 8.000 s (argument), drop ratio 0.0'
    assert lines[3] == 'NUMA: aligned' and lines[4] == 'verdict: PASSED (io mode)'
    failed = verdict(stats('eal_nohuge'))['summary']
    assert failed[-2] == 'NUMA: not checked (no placement in the log)' and failed[-1] == 'verdict: FAILED (None mode)'


def test_real_podman_pod_log_with_timestamps_and_launcher_lines():
    """`podman logs -t` of the image run by podman over two net_null ports for 4 s (line-buffered by stdbuf)."""
    result = stats('pod_podman_io_null')
    assert result['duration_source'] == 'log_timestamps' and result['duration'] == pytest.approx(4.064, abs=0.001)
    assert result['pod']['cpus'] == '0-1' and result['pod']['vdevs'] == ['net_null0', 'net_null1']
    assert result['exit'] == {'event': 'exit', 'rc': 124, 'elapsed_s': 4.813}
    assert result['totals']['rx_packets'] == 101789376 and result['totals']['mpps'] == pytest.approx(25.05, abs=0.01)
    assert [port['rx_packets'] for port in result['ports']] == [50894688, 50894688]
    assert result['numa']['aligned'] is True and result['numa']['cpu_nodes'] == {'0': 0, '1': 0}
    assert verdict(result, min_mpps=1)['passed'] is True


def test_container_exit_code_fails_the_run_when_the_launcher_did_not_explain_it():
    good = stats('pod_podman_io_null')
    assert verdict(good, exit_code=0)['passed'] is True
    assert verdict(good, exit_code='unknown')['passed'] is True
    assert verdict(good, exit_code='0')['exit_code'] == 0
    assert verdict(good, exit_code=137)['reasons'] == ['the container exited with code 137']
    killed = tp.parse_testpmd_log(log('pod_podman_io_null').split('Telling cores to stop')[0])
    reasons = verdict(killed, exit_code=137)['reasons']
    assert reasons[0].startswith('the container exited with code 137 before the launcher reported an exit')
    launcher_failed = tp.parse_testpmd_log('nfv.dpdk.testpmd: {"event": "exit", "rc": 1, "elapsed_s": 1}')
    assert [r for r in verdict(launcher_failed, exit_code=1)['reasons'] if 'container' in r] == []
    with pytest.raises(AnsibleFilterError, match='exit_code must be the container exit code'):
        verdict(good, exit_code='boom')
