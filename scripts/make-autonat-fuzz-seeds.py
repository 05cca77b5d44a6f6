#!/usr/bin/env python3
"""Writes the seed corpora of the AutoNAT fuzz targets (Fuzz/Corpus/autonat-*)."""
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz", "Corpus")


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def number(field_number, value):
    return varint(field_number << 3) + varint(value)


def framed(payload):
    return varint(len(payload)) + payload


peer = bytes([0x12, 0x20]) + bytes(range(32))  # a sha2-256 multihash peer ID
ip4_tcp = bytes([0x04, 81, 2, 3, 4, 0x06, 0x0F, 0xA1])  # /ip4/81.2.3.4/tcp/4001
ip4_tcp_80 = bytes([0x04, 1, 2, 3, 4, 0x06, 0x00, 0x50])  # /ip4/1.2.3.4/tcp/80


def dial(peer_id, addrs):
    info = field(1, peer_id) + b"".join(field(2, a) for a in addrs)
    return number(1, 0) + field(2, field(1, info))


def response(status, text=None, addr=None):
    body = number(1, status)
    if text is not None:
        body += field(2, text)
    if addr is not None:
        body += field(3, addr)
    return number(1, 1) + field(3, body)


seeds = {
    "autonat-message": [
        dial(peer, [ip4_tcp, b"\xff\xff", ip4_tcp_80]),
        response(0, addr=ip4_tcp),
        response(100, text=b"dial failed"),
        response(7),
        number(1, 0) + field(2, field(1, field(1, b"\x99"))),
        framed(response(101, text=b"no")),
        b"\xff\xff\xff\xff",
    ],
    "autonat-server": [
        bytes([0x01, 0x00, 0x50, 0x02, 0x01, 0x03, 0x10, 0x04, 0x22, 0x05, 0x01]),
        bytes([0x09, 0x00, 0x50, 0x01, 0x60]),
        bytes([0x11, 0x00, 0x50]),
        bytes([0x19, 0x00, 0x50]),
        bytes([0x03, 0x02, 0x01, 0x08, 0x08]),
        bytes([0x04, 0x00, 0x50]),
        bytes([0x00]) + framed(dial(peer, [ip4_tcp])),
        bytes([0x00]) + framed(response(0)),
        bytes([0x00, 0x02, 0xFF, 0xFF]),
    ],
    "autonat-client": [
        bytes([0x01, 0x00, 0x50]),
        bytes([0x01, 0x03, 0x07]),
        bytes([0x03, 0x00, 0x50]) + b"connection refused",
        bytes([0x05]),
        bytes([0x09, 0x00]),
        bytes([0x00]) + framed(response(0, addr=ip4_tcp_80)),
        bytes([0x40]) + framed(response(100))[:3],
        bytes([0x00]) + framed(dial(peer, [])),
        bytes([0x00, 0x01, 0xFF]),
    ],
}

for target, inputs in seeds.items():
    folder = os.path.join(root, target)
    os.makedirs(folder, exist_ok=True)
    for index, data in enumerate(inputs):
        with open(os.path.join(folder, "seed-%02d" % index), "wb") as f:
            f.write(data)
