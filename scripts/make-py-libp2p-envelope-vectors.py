#!/usr/bin/env python3
"""Writes Tests/Vectors/py-libp2p-envelopes.json: signed peer records (Ed25519, secp256k1, RSA)
and a reservation voucher sealed by py-libp2p 0.8.1 itself, so the Swift tests open
envelopes made by another libp2p implementation. Run with a venv that has libp2p==0.8.1:
    VENV/bin/python scripts/make-py-libp2p-envelope-vectors.py
The output is committed; the tests do not need Python."""
import json, pathlib
from multiaddr import Multiaddr
from libp2p.crypto import ed25519, secp256k1, rsa
from libp2p.peer.id import ID
from libp2p.peer.peer_record import PeerRecord
from libp2p.peer.envelope import seal_record
from libp2p.relay.circuit_v2.resources import Reservation, RelayLimits

root = pathlib.Path(__file__).resolve().parent.parent
addrs = ["/ip4/192.0.2.7/tcp/4001", "/ip6/2001:db8::7/udp/4001/quic-v1", "/dns4/relay.example.com/tcp/443/wss"]
pairs = {
    "ed25519": ed25519.create_new_key_pair(bytes(range(32))),
    "secp256k1": secp256k1.create_new_key_pair(bytes(range(1, 33))),
    # py-libp2p 0.8.1 cannot sign with ECDSA keys (ecc.py raises NotImplementedError).
    "rsa": rsa.create_new_key_pair(2048),
}
out = {"peer_records": [], "vouchers": []}
for name, pair in pairs.items():
    peer_id = ID.from_pubkey(pair.public_key)
    record = PeerRecord(peer_id, [Multiaddr(a) for a in addrs], seq=1234567)
    envelope = seal_record(record, pair.private_key)
    out["peer_records"].append({
        "key": name, "peer_id": peer_id.to_base58(), "seq": 1234567, "addrs": addrs,
        "addrs_hex": [Multiaddr(a).to_bytes().hex() for a in addrs],
        "envelope_hex": envelope.marshal_envelope().hex(),
    })

class RelayHost:
    def __init__(self, pair): self.pair = pair
    def get_id(self): return ID.from_pubkey(self.pair.public_key)
    def get_private_key(self): return self.pair.private_key

relay = RelayHost(pairs["ed25519"])
client = ID.from_pubkey(pairs["secp256k1"].public_key)
reservation = Reservation(client, RelayLimits(duration=120, data=1 << 17, max_circuit_conns=8, max_reservations=4), relay)
out["vouchers"].append({
    "relay": relay.get_id().to_base58(), "peer": client.to_base58(),
    "expiration": reservation.expires_at, "envelope_hex": reservation.voucher.hex(),
})
(root / "Tests/Vectors/py-libp2p-envelopes.json").write_text(json.dumps(out, indent=2) + "\n")
print("wrote", len(out["peer_records"]), "peer records and", len(out["vouchers"]), "voucher")
