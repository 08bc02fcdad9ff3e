#!/usr/bin/python3
"""Writes a bench configuration whose outgoing list has N rules (scenario b): N-1 rules that the
workload never matches (UDP to other ports from other networks), then the rule it matches, so
that every new connection is classified against the whole list. Usage: rules.py N OUT.yaml"""
import sys

n, out = int(sys.argv[1]), sys.argv[2]
lines = ["# Bench scenario (b): routing plus a classifier of %d rules for every new connection." % n,
         "version: 1",
         "dataplane: {hugepages: false, conntrack: {max_connections: 65536}}",
         "interfaces:",
         "  - {name: internal, role: internal, port: net_null0, addresses: [192.168.0.1/16]}",
         "  - {name: external, role: external, port: net_null1, addresses: [198.51.100.2/24]}",
         "default_gateway: 198.51.100.1",
         "firewall:",
         "  incoming: {default: drop}",
         "  outgoing:",
         "    rules:"]
for i in range(n - 1):
    lines.append("      - {protocol: udp, from: 10.%d.%d.0/24, to_port: %d, action: drop}"
                 % (i // 256 % 256, i % 256, 10000 + i % 50000))
lines.append("      - {protocol: tcp, from: 192.168.0.0/16, to_port: 80, action: accept}")
open(out, "w").write("\n".join(lines) + "\n")
