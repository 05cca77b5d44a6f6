#!/usr/bin/env python3
"""Writes Tests/Vectors/signatures.json: signatures made by an independent implementation
(Python `cryptography`, i.e. OpenSSL) with the spec's four test keys, so the Swift tests
check that Traverse verifies what other libp2p stacks sign. Also a 1024-bit RSA key, which
libp2p must refuse. Run once; the output is committed."""
import json, pathlib
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

root = pathlib.Path(__file__).resolve().parent.parent
vectors = json.loads((root / "Tests/Vectors/key-encodings.json").read_text())["vectors"]
private = {v["key"].split()[0].lower(): bytes.fromhex(v["protobuf_hex"]) for v in vectors if "private" in v["key"]}

def key_data(encoded):
    # PrivateKey protobuf: 08 <type> 12 <varint len> <data>
    assert encoded[0] == 0x08 and encoded[2] == 0x12
    length, shift, i = 0, 0, 3
    while True:
        b = encoded[i]; i += 1
        length |= (b & 0x7F) << shift; shift += 7
        if not b & 0x80: break
    return encoded[i:i + length]

message = b"traverse signature vector: the quick brown fox jumps over the lazy dog"
out = {"message_hex": message.hex(), "signatures": []}

ed = ed25519.Ed25519PrivateKey.from_private_bytes(key_data(private["ed25519"])[:32])
out["signatures"].append({"key": "ed25519", "signature_hex": ed.sign(message).hex()})

k1 = ec.derive_private_key(int.from_bytes(key_data(private["secp256k1"]), "big"), ec.SECP256K1())
out["signatures"].append({"key": "secp256k1", "signature_hex": k1.sign(message, ec.ECDSA(hashes.SHA256())).hex()})

p256 = serialization.load_der_private_key(key_data(private["ecdsa"]), password=None)
out["signatures"].append({"key": "ecdsa", "signature_hex": p256.sign(message, ec.ECDSA(hashes.SHA256())).hex()})

rsa_key = serialization.load_der_private_key(key_data(private["rsa"]), password=None)
out["signatures"].append({"key": "rsa", "signature_hex": rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()})

out["secp256k1_public_uncompressed_hex"] = k1.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex()

small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
spki = small.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
out["rsa1024_public_pkix_hex"] = spki.hex()

(root / "Tests/Vectors/signatures.json").write_text(json.dumps(out, indent=2) + "\n")
