#!/usr/bin/env python3
"""Writes Tests/Vectors/py-libp2p-identify.json: identify messages built by py-libp2p 0.8.1's
own identify code (`_mk_identify_protobuf`, framed as its handler frames them), with the
signed peer record py-libp2p seals, so the Swift tests decode what a py-libp2p peer sends.
The host is a stand-in that answers the calls that function makes, as BasicHost would
(listen addresses carry the /p2p suffix, which identify strips from listenAddrs but not from
the signed record). Run with a venv that has libp2p==0.8.1:
    VENV/bin/python scripts/make-py-libp2p-identify-vectors.py
The output is committed; the tests do not need Python."""
import json, pathlib
from multiaddr import Multiaddr
from libp2p.crypto import ed25519, secp256k1, rsa
from libp2p.peer.id import ID
from libp2p.identity.identify.identify import _mk_identify_protobuf, AGENT_VERSION, PROTOCOL_VERSION
from libp2p.utils import varint

root = pathlib.Path(__file__).resolve().parent.parent
transport_addrs = ["/ip4/192.0.2.7/tcp/4001", "/ip6/2001:db8::7/tcp/4001"]
protocols = ["/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0", "/libp2p/circuit/relay/0.2.0/hop"]
observed = "/ip4/198.51.100.9/tcp/53211"


class StandInPeerstore:
    def get_local_record(self): return None
    def set_local_record(self, envelope): pass


class StandInMux:
    def get_protocols(self): return protocols


class StandInHost:
    def __init__(self, pair): self.pair = pair
    def get_id(self): return ID.from_pubkey(self.pair.public_key)
    def get_public_key(self): return self.pair.public_key
    def get_private_key(self): return self.pair.private_key
    def get_transport_addrs(self): return [Multiaddr(a) for a in transport_addrs]
    def get_addrs(self): return [Multiaddr(f"{a}/p2p/{self.get_id()}") for a in transport_addrs]
    def get_mux(self): return StandInMux()
    def get_peerstore(self): return StandInPeerstore()


pairs = {
    "ed25519": ed25519.create_new_key_pair(bytes(range(32))),
    "secp256k1": secp256k1.create_new_key_pair(bytes(range(1, 33))),
    "rsa": rsa.create_new_key_pair(2048),
}
out = {"agent_version": AGENT_VERSION, "protocol_version": PROTOCOL_VERSION, "messages": []}
for name, pair in pairs.items():
    host = StandInHost(pair)
    for observed_addr in [Multiaddr(observed), None]:
        message = _mk_identify_protobuf(host, observed_addr).SerializeToString()
        out["messages"].append({
            "key": name, "peer_id": host.get_id().to_base58(),
            "public_key_hex": pair.public_key.serialize().hex(),
            "listen_addrs": transport_addrs, "record_addrs": [str(a) for a in host.get_addrs()],
            "protocols": protocols, "observed_addr": str(observed_addr) if observed_addr else None,
            "framed_hex": (varint.encode_uvarint(len(message)) + message).hex(),
        })
(root / "Tests/Vectors/py-libp2p-identify.json").write_text(json.dumps(out, indent=2) + "\n")
print("wrote", len(out["messages"]), "identify messages")
