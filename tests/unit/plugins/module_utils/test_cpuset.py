import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError


@pytest.mark.parametrize('text, cpus', [
    ('0-3,8,10-11', {0, 1, 2, 3, 8, 10, 11}),
    ('', set()),
    (None, set()),
    ('5', {5}),
    (' 1 , 3 ', {1, 3}),
    ('0-15:2/4', {0, 1, 4, 5, 8, 9, 12, 13}),
    (['0-1', 4], {0, 1, 4}),
    (7, {7}),
])
def test_parse(text, cpus):
    assert set(CpuSet.parse(text)) == cpus


@pytest.mark.parametrize('text', ['a', '3-1', '1-', '-1', '1,,2', '0-9000', '1-4:0/2', '1.5', '0-3:3/2'])
def test_parse_rejects(text):
    with pytest.raises(CpuSetError) as exc:
        CpuSet.parse(text)
    assert text in str(exc.value) or 'CPU' in str(exc.value)


@pytest.mark.parametrize('cpus', [[-1], [True], ['1'], [9000]])
def test_constructor_rejects_non_cpu_numbers(cpus):
    with pytest.raises(CpuSetError):
        CpuSet(cpus)


def test_format_and_ranges():
    cpus = CpuSet([11, 0, 1, 2, 3, 8, 10])
    assert cpus.format() == '0-3,8,10-11'
    assert str(cpus) == '0-3,8,10-11'
    assert cpus.ranges() == [(0, 3), (8, 8), (10, 11)]
    assert CpuSet().format() == ''


def test_set_operations_keep_the_type():
    a, b = CpuSet.parse('0-7'), CpuSet.parse('2-3')
    assert isinstance(a - b, CpuSet) and (a - b).format() == '0-1,4-7'
    assert isinstance(a & b, CpuSet) and (a & b).format() == '2-3'
    assert isinstance(b | CpuSet([9]), CpuSet) and (b | CpuSet([9])).format() == '2-3,9'


@pytest.mark.parametrize('mask, cpus', [
    ('f', '0-3'),
    ('00000000,00000100', '8'),
    ('1,00000001', '0,32'),
    ('0', ''),
    ('0x3', '0-1'),
])
def test_masks_round_trip(mask, cpus):
    parsed = CpuSet.from_mask(mask)
    assert parsed.format() == cpus
    assert CpuSet.from_mask(parsed.to_mask()) == parsed


def test_to_mask_groups_32_bits_like_the_kernel():
    assert CpuSet([0, 32]).to_mask() == '1,00000001'
    assert CpuSet().to_mask() == '0'


def test_from_mask_rejects_garbage():
    with pytest.raises(CpuSetError):
        CpuSet.from_mask('xyz')
