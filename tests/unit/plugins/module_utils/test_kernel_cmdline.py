import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import (
    KernelArg, KernelCmdline, KernelCmdlineError)

DEBIAN = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro quiet console=ttyS0,115200n8'


def test_parse_keeps_order_and_values():
    cmdline = KernelCmdline.parse(DEBIAN + ' hugepagesz=1G hugepages=16 hugepagesz=2M hugepages=1024')
    assert cmdline.values('hugepagesz') == ['1G', '2M']
    assert cmdline.values('hugepages') == ['16', '1024']
    assert cmdline.values('ro') == [None]
    assert cmdline.last_value('console') == 'ttyS0,115200n8'
    assert str(cmdline) == DEBIAN + ' hugepagesz=1G hugepages=16 hugepagesz=2M hugepages=1024'


def test_token_comparison_is_never_by_substring():
    cmdline = KernelCmdline.parse('intel_iommu=on,sm_on iommu=pt')
    assert not cmdline.contains('intel_iommu=on')
    assert cmdline.contains('intel_iommu=on,sm_on')
    assert not KernelCmdline.parse('xintel_iommu=on').contains('intel_iommu=on')


def test_hyphen_and_underscore_are_the_same_key():
    cmdline = KernelCmdline.parse('rcu-nocbs=2-3')
    assert cmdline.values('rcu_nocbs') == ['2-3']
    assert cmdline.contains('rcu_nocbs=2-3')


def test_quoted_values_and_whole_quoted_parameters():
    cmdline = KernelCmdline.parse('dyndbg="file foo.c +p" "acpi_osi=Windows 2009" ro')
    assert cmdline.values('dyndbg') == ['file foo.c +p']
    assert cmdline.values('acpi_osi') == ['Windows 2009']
    assert str(cmdline.args[0]) == 'dyndbg="file foo.c +p"'


def test_init_arguments_after_double_dash_are_kept():
    cmdline = KernelCmdline.parse('ro quiet -- single iommu=pt')
    assert not cmdline.has_key('iommu')
    assert cmdline.init_args == 'single iommu=pt'
    edited = cmdline.replace(['iommu'], ['iommu=pt'])
    assert str(edited) == 'ro quiet iommu=pt -- single iommu=pt'


def test_replace_edits_only_owned_keys_in_place():
    cmdline = KernelCmdline.parse('ro iommu=soft quiet intel_iommu=off splash')
    edited = cmdline.replace(['iommu', 'intel_iommu'], ['intel_iommu=on', 'iommu=pt'])
    assert str(edited) == 'ro intel_iommu=on iommu=pt quiet splash'
    assert str(cmdline) == 'ro iommu=soft quiet intel_iommu=off splash', 'the original is not modified'


def test_replace_appends_when_no_owned_key_present_and_removes_with_empty_list():
    cmdline = KernelCmdline.parse('ro quiet')
    assert str(cmdline.replace(['iommu'], ['iommu=pt'])) == 'ro quiet iommu=pt'
    assert str(KernelCmdline.parse('ro iommu=pt quiet').replace(['iommu'], [])) == 'ro quiet'


def test_repeated_hugepage_pairs_compare_in_order():
    keys = ['default_hugepagesz', 'hugepagesz', 'hugepages']
    cmdline = KernelCmdline.parse('ro hugepagesz=1G hugepages=16 hugepagesz=2M hugepages=1024')
    assert cmdline.matches(keys, ['hugepagesz=1G', 'hugepages=16', 'hugepagesz=2M', 'hugepages=1024'])
    assert not cmdline.matches(keys, ['hugepagesz=2M', 'hugepages=1024', 'hugepagesz=1G', 'hugepages=16'])
    assert not cmdline.matches(keys, ['hugepagesz=1G', 'hugepages=16'])


def test_replace_rejects_parameters_it_does_not_own():
    with pytest.raises(KernelCmdlineError, match='not among the keys'):
        KernelCmdline.parse('ro').replace(['iommu'], ['quiet'])


@pytest.mark.parametrize('text', ['', 'a b', 'x"y=1', '=1', 'foo="unbalanced'])
def test_kernel_arg_parse_rejects(text):
    with pytest.raises(KernelCmdlineError):
        KernelArg.parse(text)


def test_unbalanced_quote_in_cmdline_is_an_error():
    with pytest.raises(KernelCmdlineError, match='unbalanced'):
        KernelCmdline.parse('ro foo="bar')


def test_kernel_arg_formats_values_with_spaces_quoted():
    assert str(KernelArg('foo', 'a b')) == 'foo="a b"'
    assert str(KernelArg('foo', '')) == 'foo=""'
    assert KernelArg('isolcpus', 'managed_irq,domain,2-3') == KernelArg.parse('isolcpus=managed_irq,domain,2-3')
    assert KernelArg.parse('foo') != KernelArg.parse('foo=')
