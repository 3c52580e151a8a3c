"""The nftables rule text both backends share: the native rules keep their exact words."""
from __future__ import annotations

import pytest

from chaoslib.errors import FaultError
from chaoslib.kernel import nft


def test_native_table_script_is_unchanged():
    assert nft.table_script() == ("table inet chaos {\n"
                                  "  chain output { type filter hook output priority 0; policy accept; }\n}\n")


def test_native_drop_rule_words():
    assert nft.drop_rule_args(key="f-1.app2", daddr="127.0.1.2", dport=8000, uid=990, percent=30) == [
        "add", "rule", "inet", "chaos", "output", "meta", "skuid", "990", "ip", "daddr", "127.0.1.2", "tcp",
        "dport", "8000", "numgen", "random", "mod", "100", "<", "30", "counter", "drop", "comment", '"f-1.app2"']


def test_docker_rule_by_source_address_in_the_input_chain():
    words = nft.drop_rule_args(key="k", chain="input", saddr="172.18.0.4", dport=5432)
    assert " ".join(words) == 'add rule inet chaos input ip saddr 172.18.0.4 tcp dport 5432 counter drop comment "k"'
    assert "chain input { type filter hook input" in nft.table_script(("input", "output"))


def test_bad_key_and_percent_refused():
    with pytest.raises(FaultError):
        nft.drop_rule_args(key="a b", daddr="1.2.3.4", dport=1)
    with pytest.raises(FaultError):
        nft.drop_rule_args(key="k", daddr="1.2.3.4", dport=1, percent=0)


def test_parse_rules_reads_both_directions():
    data = {"nftables": [
        {"rule": {"chain": "input", "handle": 4, "comment": "k.app1", "expr": [
            {"match": {"left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "172.18.0.4"}},
            {"match": {"left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 5432}},
            {"match": {"left": {"numgen": {"mode": "random", "mod": 100}}, "right": 40}},
            {"counter": {"packets": 7, "bytes": 420}}, {"drop": None}]}}]}
    [rule] = nft.parse_rules(data)
    assert (rule.chain, rule.saddr, rule.daddr, rule.dport, rule.percent, rule.packets) == (
        "input", "172.18.0.4", None, 5432, 40, 7)
    assert nft.matches_key(rule.key, "k") and not nft.matches_key(rule.key, "k.app")
