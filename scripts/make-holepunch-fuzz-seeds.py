#!/usr/bin/env python3
"""Writes the seed corpora of the DCUtR fuzz targets (Fuzz/Corpus/holepunch-*).

Run from the repository root: python3 scripts/make-holepunch-fuzz-seeds.py
"""
import os


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_type(value):
    return b"\x08" + varint(value)


def field_address(entry):
    return b"\x12" + varint(len(entry)) + entry


def framed(payload):
    return varint(len(payload)) + payload


def ip4_tcp(a, b, c, d, port):
    return b"\x04" + bytes([a, b, c, d]) + b"\x06" + port.to_bytes(2, "big")


def ip6_tcp(address16, port):
    return b"\x29" + address16 + b"\x06" + port.to_bytes(2, "big")


PUBLIC = ip4_tcp(1, 2, 3, 4, 4001)
PUBLIC6 = ip6_tcp(bytes.fromhex("26064700000000000000000000001111"), 4001)
PRIVATE = ip4_tcp(192, 168, 1, 2, 4001)
SAME_NAT = ip4_tcp(5, 6, 7, 8, 50001)
QUIC = b"\x04" + bytes([1, 2, 3, 4]) + b"\x91\x02" + (4001).to_bytes(2, "big") + b"\xcc\x03"
CIRCUIT = PUBLIC + b"\xa2\x02"  # …/p2p-circuit

CONNECT = field_type(100) + field_address(PUBLIC) + field_address(PUBLIC6) + field_address(PRIVATE)
CONNECT_ODD = field_type(100) + field_address(b"\xff\xff") + field_address(CIRCUIT) + field_address(QUIC) + field_address(PUBLIC)
CONNECT_SAME_NAT = field_type(100) + field_address(PRIVATE) + field_address(SAME_NAT)
SYNC = field_type(300)


def entries(*addresses):
    """Address entries for the targets' odd-option mode: each piece is a control byte whose
    low nibble is the entry's length, then the entry."""
    out = bytearray()
    for address in addresses:
        assert len(address) <= 15
        out.append(len(address))
        out += address
    return bytes(out)


corpora = {
    "holepunch-message": [
        CONNECT,
        SYNC,
        CONNECT_ODD,
        field_type(200),
        framed(CONNECT) + framed(SYNC),
        SYNC + field_address(PUBLIC) + b"\x18\x05",
    ],
    "holepunch-initiator": [
        b"\x00" + framed(CONNECT),
        b"\x02" + framed(CONNECT_SAME_NAT),
        b"\x01" + entries(PUBLIC, PRIVATE, QUIC),
        b"\x04" + framed(SYNC),
        b"\x06" + framed(CONNECT)[:5],
        b"\x00" + framed(CONNECT_ODD) + framed(SYNC),
    ],
    "holepunch-responder": [
        b"\x00" + framed(CONNECT) + framed(SYNC),
        b"\x01" + entries(PUBLIC, PUBLIC6[:15]),
        b"\x02" + framed(CONNECT),
        b"\x04" + framed(SYNC),
        b"\x00" + framed(CONNECT) + framed(CONNECT),
        b"\x00" + framed(field_type(100) + field_address(PRIVATE)) + framed(SYNC),
    ],
}

for name, seeds in corpora.items():
    folder = os.path.join("Fuzz", "Corpus", name)
    os.makedirs(folder, exist_ok=True)
    for index, seed in enumerate(seeds):
        with open(os.path.join(folder, f"seed-{index:02d}"), "wb") as handle:
            handle.write(seed)
