#!/usr/bin/env python3
"""A py-libp2p 0.8.1 peer for Traverse's interop tests and benchmarks.

Subcommands (see Interop/py/README.md for the full JSON protocol):

    listen        serve identify, ping, /traverse/echo/1.0.0 and /perf/1.0.0 until stdin
                  reaches EOF or SIGTERM/SIGINT arrives
    dial MADDR    connect, then run --identify, --ping, --echo, --perf-*, --protocol-probe
    bench-setups  N sequential connection setups (TCP + Noise + Yamux + one ping stream)

Results and events are JSON objects, one per line on stdout, flushed as they happen.
Diagnostics go to stderr. Exit status 0 on success, 1 when an operation failed, 2 on
bad arguments.
"""

import argparse
import hashlib
import json
import logging
import os
import secrets
import signal
import struct
import sys
import threading
import time

# Importing libp2p takes most of the start-up time (~0.6 s); keep everything else light.
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization as crypto_serialization
from cryptography.hazmat.primitives.asymmetric import ec
from multiaddr import Multiaddr
import trio

from libp2p import new_host
from libp2p.crypto import ed25519, rsa as py_rsa, secp256k1
import libp2p.crypto.serialization as py_key_serialization
from libp2p.crypto.keys import KeyPair, KeyType, PrivateKey, PublicKey
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.network.config import ConnectionConfig
from libp2p.network.stream.exceptions import StreamEOF
import libp2p.peer.envelope as py_envelope
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.perf import PerfService
from libp2p.rcmgr import ResourceManager
from libp2p.rcmgr.connection_limits import new_connection_limits_with_defaults

ECHO_PROTOCOL = "/traverse/echo/1.0.0"
IDENTIFY_PROTOCOL = "/ipfs/id/1.0.0"
IDENTIFY_PUSH_PROTOCOL = "/ipfs/id/push/1.0.0"
PING_PROTOCOL = "/ipfs/ping/1.0.0"
PERF_PROTOCOL = "/perf/1.0.0"
PEER_RECORD_DOMAIN = "libp2p-peer-record"
CHUNK = 256 * 1024  # py-libp2p moves data faster in big writes (perf: ~250 MB/s, ~200 with 64 KiB)
MAX_IDENTIFY_BYTES = 1 << 20
SHUTDOWN_SECONDS = 2.0  # the longest a stopping listener may take to close

log = logging.getLogger("traverse.peer")


# ---------------------------------------------------------------------------------------
# Output


def emit(obj):
    """Writes one JSON object as one line on stdout and flushes it."""
    try:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # the reader is gone; nothing left to tell


quiet = False  # listen --quiet: no per-connection or per-stream events


def emit_event(obj):
    """A listener's event line, unless --quiet."""
    if not quiet:
        emit(obj)


try:
    _ExceptionGroup = BaseExceptionGroup
except NameError:  # Python 3.10: trio brings the backport
    from exceptiongroup import BaseExceptionGroup as _ExceptionGroup


def one_line(error):
    """An exception as one line (the first leaf of a trio exception group)."""
    while isinstance(error, _ExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    # py-libp2p wraps the reason (refused, handshake failure, ...) in its causes.
    cause, depth = error.__cause__, 0
    while cause is not None and depth < 4:
        if str(cause):
            text += f" <- {type(cause).__name__}: {cause}"
        cause, depth = cause.__cause__, depth + 1
    return " ".join(text.split())


class OperationFailed(Exception):
    """An operation failed; its error line has been printed."""


# ---------------------------------------------------------------------------------------
# Identities


class EcdsaP256PublicKey(PublicKey):
    """An ECDSA P-256 public key as the libp2p key spec has it (type ECDSA = 3, data =
    DER SubjectPublicKeyInfo, signatures DER over SHA-256). py-libp2p 0.8.1's own ECC
    key (libp2p.crypto.ecc) cannot sign or verify and serializes as the non-spec type
    ECC_P256 with a raw SEC1 point, so this peer brings its own."""

    def __init__(self, impl):
        self.impl = impl

    def to_bytes(self):
        return self.impl.public_bytes(
            crypto_serialization.Encoding.DER,
            crypto_serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    @classmethod
    def from_bytes(cls, data):
        key = crypto_serialization.load_der_public_key(data)
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("ECDSA key is not on P-256")
        return cls(key)

    def get_type(self):
        return KeyType.ECDSA

    def verify(self, data, signature):
        try:
            self.impl.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, ValueError):
            return False


class EcdsaP256PrivateKey(PrivateKey):
    def __init__(self, impl):
        self.impl = impl

    def to_bytes(self):
        return self.impl.private_bytes(
            crypto_serialization.Encoding.DER,
            crypto_serialization.PrivateFormat.TraditionalOpenSSL,
            crypto_serialization.NoEncryption(),
        )

    def get_type(self):
        return KeyType.ECDSA

    def sign(self, data):
        return self.impl.sign(data, ec.ECDSA(hashes.SHA256()))

    def get_public_key(self):
        return EcdsaP256PublicKey(self.impl.public_key())


def install_ecdsa_support():
    """Teaches py-libp2p to read spec ECDSA public keys (Noise payloads, identify, peer
    IDs, signed envelopes). 0.8.1 has no deserializer for key type 3 and rejects such
    peers during the Noise handshake."""
    py_key_serialization.key_type_to_public_key_deserializer[KeyType.ECDSA.value] = (
        EcdsaP256PublicKey.from_bytes
    )
    original = py_envelope.pub_key_from_protobuf

    def pub_key_from_protobuf(pb_key):
        if pb_key.Type == KeyType.ECDSA.value:
            return EcdsaP256PublicKey.from_bytes(pb_key.Data)
        return original(pb_key)

    py_envelope.pub_key_from_protobuf = pub_key_from_protobuf


class SeededBytes:
    """A deterministic byte source (SHA-256 in counter mode) for RSA generation."""

    def __init__(self, seed):
        self.seed = seed
        self.counter = 0

    def __call__(self, n):
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
        return bytes(out[:n])


def seed32(seed):
    """The 32-byte secret a seed stands for: itself when it is 32 bytes long, else its
    SHA-256."""
    return seed if len(seed) == 32 else hashlib.sha256(seed).digest()


def make_key_pair(key_type, seed):
    if key_type == "ed25519":
        return ed25519.create_new_key_pair(seed32(seed) if seed is not None else None)
    if key_type == "secp256k1":
        return secp256k1.create_new_key_pair(seed32(seed) if seed is not None else None)
    if key_type == "rsa":
        if seed is None:
            return py_rsa.create_new_key_pair(2048)
        from Crypto.PublicKey import RSA

        private = py_rsa.RSAPrivateKey(RSA.generate(2048, randfunc=SeededBytes(seed)))
        return KeyPair(private, private.get_public_key())
    if key_type == "ecdsa":
        if seed is None:
            impl = ec.generate_private_key(ec.SECP256R1())
        else:
            order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
            scalar = int.from_bytes(seed32(seed), "big") % (order - 1) + 1
            impl = ec.derive_private_key(scalar, ec.SECP256R1())
        private = EcdsaP256PrivateKey(impl)
        return KeyPair(private, private.get_public_key())
    raise ValueError(f"unknown key type {key_type}")


# ---------------------------------------------------------------------------------------
# Hosts and streams


def build_host(key_pair):
    """A py-libp2p host with the defaults, except for three limits that would refuse a
    peer reconnecting quickly (bench-setups from py or from Traverse); none of them
    changes anything on the wire:

    - the resource manager admits 10 connections a second per peer (burst 50): off;
    - it allows 8 established connections per peer, and a closed connection keeps its
      slot for the 0.2 s its close sleeps: 256;
    - the swarm holds an inbound slot (max_connections - min_connections = 250) from
      accept until the whole swarm stops, not until the connection closes, so with the
      defaults a listener refuses every connection after its 250th: max_connections is
      raised to lift that lifetime cap.
    """
    limits = new_connection_limits_with_defaults()
    limits.max_established_per_peer = 256
    resource_manager = ResourceManager(
        connection_limits=limits,
        enable_memory_pooling=True,  # as new_resource_manager() has it
        enable_rate_limiting=False,
    )
    config = ConnectionConfig(max_connections_per_peer=1, max_connections=1_000_000)
    return new_host(
        key_pair=key_pair,
        connection_config=config,
        resource_manager=resource_manager,
    )


async def read_some(stream, n=CHUNK):
    """One read of up to n bytes; b"" at end of stream. py-libp2p's NetStream.read raises
    StreamEOF at the end instead of returning b""."""
    try:
        return await stream.read(n)
    except StreamEOF:
        return b""


async def read_exact(stream, n):
    parts = []
    left = n
    while left:
        data = await read_some(stream, left)
        if not data:
            raise EOFError(f"stream ended after {n - left} of {n} bytes")
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


async def read_to_end(stream, limit):
    parts = []
    total = 0
    while True:
        data = await read_some(stream)
        if not data:
            return b"".join(parts)
        total += len(data)
        if total > limit:
            raise ValueError(f"more than {limit} bytes")
        parts.append(data)


def decode_uvarint(buf, pos):
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def parse_identify(data):
    """Identify messages as sent: one or more varint-length-prefixed protobufs, merged."""
    message = Identify()
    pos = 0
    if not data:
        raise ValueError("empty identify response")
    while pos < len(data):
        length, pos = decode_uvarint(data, pos)
        if pos + length > len(data):
            raise ValueError("truncated identify message")
        part = Identify()
        part.ParseFromString(data[pos : pos + length])
        message.MergeFrom(part)
        pos += length
    return message


def describe_signed_record(envelope_bytes, expected_peer):
    """Verifies a signed peer record with py-libp2p's own envelope and record code: the
    envelope signature in the libp2p-peer-record domain, and that the signing key, the
    record's peer ID and the expected peer are one and the same."""
    if not envelope_bytes:
        return {"present": False, "valid": False}
    out = {"present": True, "valid": False}
    try:
        envelope = py_envelope.unmarshal_envelope(envelope_bytes)
        out["payload_type"] = envelope.payload_type.hex()
        record = envelope.record()
        out["peer_id"] = record.peer_id.to_base58()
        out["seq"] = record.seq
        out["addrs"] = [str(a) for a in record.addrs]
        signer = ID.from_pubkey(envelope.public_key)
        try:
            envelope.validate(PEER_RECORD_DOMAIN)
            signature_ok = True
        except ValueError:
            signature_ok = False
        problems = []
        if not signature_ok:
            problems.append("bad envelope signature")
        if signer != record.peer_id:
            problems.append("record peer ID is not the signer's")
        if expected_peer is not None and record.peer_id != expected_peer:
            problems.append("record peer ID is not the remote peer's")
        out["valid"] = not problems
        if problems:
            out["problem"] = "; ".join(problems)
    except Exception as error:
        out["problem"] = one_line(error)
    return out


def describe_identify(message, expected_peer):
    out = {
        "agent_version": message.agent_version if message.HasField("agent_version") else None,
        "protocol_version": message.protocol_version
        if message.HasField("protocol_version")
        else None,
        "protocols": list(message.protocols),
        "listen_addrs": [],
        "observed_addr": None,
    }
    for raw in message.listen_addrs:
        try:
            out["listen_addrs"].append(str(Multiaddr(raw)))
        except Exception:
            out["listen_addrs"].append("hex:" + raw.hex())
    if message.HasField("observed_addr") and message.observed_addr:
        try:
            out["observed_addr"] = str(Multiaddr(message.observed_addr))
        except Exception:
            out["observed_addr"] = "hex:" + message.observed_addr.hex()
    if message.HasField("public_key"):
        try:
            key = py_key_serialization.deserialize_public_key(message.public_key)
            key_peer = ID.from_pubkey(key)
            out["public_key_matches_peer_id"] = (
                expected_peer is None or key_peer == expected_peer
            )
        except Exception as error:
            out["public_key_matches_peer_id"] = False
            out["public_key_problem"] = one_line(error)
    else:
        out["public_key_matches_peer_id"] = False
    out["signed_peer_record"] = describe_signed_record(
        message.signedPeerRecord if message.HasField("signedPeerRecord") else b"",
        expected_peer,
    )
    return out


# ---------------------------------------------------------------------------------------
# listen


class EventNotifee:
    """Prints connected/disconnected events."""

    async def opened_stream(self, network, stream):
        return None

    async def closed_stream(self, network, stream):
        return None

    async def connected(self, network, conn):
        emit_event({"event": "connected", "peer_id": conn.muxed_conn.peer_id.to_base58()})

    async def disconnected(self, network, conn):
        emit_event({"event": "disconnected", "peer_id": conn.muxed_conn.peer_id.to_base58()})

    async def listen(self, network, multiaddr):
        return None

    async def listen_close(self, network, multiaddr):
        return None


class RecordingStream:
    """Passes a stream through to a py-libp2p handler and keeps what it read."""

    def __init__(self, stream):
        self._stream = stream
        self.received = bytearray()

    async def read(self, n=None):
        data = await self._stream.read(n)
        if len(self.received) < MAX_IDENTIFY_BYTES:
            self.received += data
        return data

    def __getattr__(self, name):
        return getattr(self._stream, name)


def observe_identify_push(host):
    """Wraps py-libp2p's own identify-push handler so each push it handles is also
    printed (what the pushing peer sent, as py-libp2p read it)."""
    handlers = host.get_mux().handlers
    original = handlers.get(IDENTIFY_PUSH_PROTOCOL)
    if original is None:
        return

    async def handle(stream):
        peer = stream.muxed_conn.peer_id
        recording = RecordingStream(stream)
        try:
            await original(recording)
        finally:
            event = {"event": "identify-push", "peer_id": peer.to_base58()}
            try:
                event.update(describe_identify(parse_identify(bytes(recording.received)), peer))
            except Exception as error:
                event["error"] = one_line(error)
            emit_event(event)

    host.set_stream_handler(IDENTIFY_PUSH_PROTOCOL, handle)


async def handle_echo(stream):
    peer = stream.muxed_conn.peer_id.to_base58()
    total = 0
    try:
        while True:
            data = await read_some(stream)
            if not data:
                break
            await stream.write(data)
            total += len(data)
        await stream.close()
        emit_event({"event": "echo", "peer_id": peer, "bytes": total})
    except Exception as error:
        emit_event({"event": "echo", "peer_id": peer, "bytes": total, "error": one_line(error)})
        try:
            await stream.reset()
        except Exception:
            pass


def arm_exit_watchdog(status):
    """py-libp2p closes its connections on the way out; should that ever hang, the
    process leaves anyway with `status`: a peer must not outlive its test."""

    def leave():
        sys.stdout.flush()
        os._exit(status)

    watchdog = threading.Timer(SHUTDOWN_SECONDS, leave)
    watchdog.daemon = True
    watchdog.start()


async def wait_for_stdin_eof(task_status=trio.TASK_STATUS_IGNORED):
    stream = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    task_status.started()
    while await stream.receive_some(4096):
        pass


async def wait_for_signal(task_status=trio.TASK_STATUS_IGNORED):
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        async for _ in signals:
            return


async def run_listen(args, key_pair):
    global quiet
    quiet = args.quiet
    host = build_host(key_pair)
    host.get_network().register_notifee(EventNotifee())
    listen_addr = Multiaddr(args.listen)
    async with host.run(listen_addrs=[listen_addr]):
        host.set_stream_handler(ECHO_PROTOCOL, handle_echo)
        perf = PerfService(host, {"write_block_size": CHUNK})
        await perf.start()
        observe_identify_push(host)
        async with trio.open_nursery() as nursery:

            async def stop_after(waiter, reason, task_status=trio.TASK_STATUS_IGNORED):
                await waiter(task_status=task_status)
                emit({"event": "stopping", "reason": reason})
                arm_exit_watchdog(0)
                nursery.cancel_scope.cancel()

            # Watch for the stop signals first, so that a stop sent right after the
            # "listening" line is never missed.
            await nursery.start(stop_after, wait_for_signal, "signal")
            if not args.ignore_stdin:
                await nursery.start(stop_after, wait_for_stdin_eof, "stdin-eof")
            emit(
                {
                    "event": "listening",
                    "peer_id": host.get_id().to_base58(),
                    "key_type": args.key_type,
                    "addrs": [str(a) for a in host.get_addrs()],
                }
            )
    return 0


# ---------------------------------------------------------------------------------------
# dial


async def op_identify(host, peer):
    stream = await host.new_stream(peer, [IDENTIFY_PROTOCOL])
    data = await read_to_end(stream, MAX_IDENTIFY_BYTES)
    try:
        await stream.close()
    except Exception:
        pass
    result = {"op": "identify", "peer_id": peer.to_base58()}
    result.update(describe_identify(parse_identify(data), peer))
    return result


async def op_push_identify(host, peer):
    """py-libp2p's own identify push (/ipfs/id/push/1.0.0): one length-prefixed message,
    the same one it answers identify requests with."""
    from libp2p.identity.identify_push.identify_push import push_identify_to_peer

    if not await push_identify_to_peer(host, peer):
        raise RuntimeError("py-libp2p could not push (see stderr)")
    return {"op": "identify-push", "sent": True}


async def op_ping(host, peer, count):
    stream = await host.new_stream(peer, [PING_PROTOCOL])
    rtts = []
    for _ in range(count):
        payload = secrets.token_bytes(32)
        start = time.perf_counter()
        await stream.write(payload)
        pong = await read_exact(stream, 32)
        rtts.append(round((time.perf_counter() - start) * 1000, 3))
        if pong != payload:
            raise ValueError("pong differs from ping")
    await stream.close()
    return {"op": "ping", "streams": 1, "count": count, "rtt_ms": rtts}


async def op_echo(host, peer, size):
    payload = secrets.token_bytes(size)
    received = bytearray()
    start = time.perf_counter()
    stream = await host.new_stream(peer, [ECHO_PROTOCOL])

    async def send():
        view = memoryview(payload)
        for offset in range(0, size, CHUNK):
            await stream.write(bytes(view[offset : offset + CHUNK]))
        await stream.close_write()

    async def receive():
        while True:
            data = await read_some(stream)
            if not data:
                return
            received.extend(data)
            if len(received) > size:
                raise ValueError("echo returned more bytes than were sent")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send)
        nursery.start_soon(receive)
    seconds = time.perf_counter() - start
    try:
        await stream.close()
    except Exception:
        pass
    return {
        "op": "echo",
        "bytes": size,
        "received": len(received),
        "identical": bytes(received) == payload,
        "seconds": round(seconds, 6),
    }


async def op_perf(host, peer, upload, download):
    """The client side of /perf/1.0.0: request size, upload, half-close, download."""
    block = bytes(CHUNK)
    start = time.perf_counter()
    stream = await host.new_stream(peer, [PERF_PROTOCOL])
    await stream.write(struct.pack(">Q", download))
    left = upload
    while left:
        n = min(CHUNK, left)
        await stream.write(block if n == CHUNK else block[:n])
        left -= n
    await stream.close_write()
    upload_done = time.perf_counter()
    received = 0
    while True:
        data = await read_some(stream)
        if not data:
            break
        received += len(data)
        if received > download:
            raise ValueError(f"server sent more than the {download} bytes requested")
    end = time.perf_counter()
    try:
        await stream.close()
    except Exception:
        pass
    if received != download:
        raise ValueError(f"server sent {received} of the {download} bytes requested")
    seconds = end - start
    result = {
        "op": "perf",
        "type": "final",
        "upload_bytes": upload,
        "download_bytes": received,
        "seconds": round(seconds, 6),
        "upload_seconds": round(upload_done - start, 6),
        "download_seconds": round(end - upload_done, 6),
        "mb_per_s": round((upload + received) / seconds / 1e6, 3) if seconds > 0 else None,
    }
    return result


async def op_probe(host, peer, protocol):
    # py-libp2p logs a failed negotiation at ERROR level; a probe expects failures.
    quiet = logging.getLogger("libp2p.host.basic_host")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        stream = await host.new_stream(peer, [protocol])
    except Exception as error:
        # StreamFailure from multistream-select "na" (protocol not supported).
        return {"op": "probe", "protocol": protocol, "supported": False, "reason": one_line(error)}
    finally:
        quiet.setLevel(level)
    try:
        await stream.reset()
    except Exception:
        pass
    return {"op": "probe", "protocol": protocol, "supported": True}


def parse_target(text):
    maddr = Multiaddr(text)
    peer_text = maddr.value_for_protocol("p2p")
    if not peer_text:
        raise ValueError("the address needs a /p2p/PEER_ID suffix")
    return maddr, ID.from_base58(peer_text)


async def timed(op_name, seconds, coroutine_fn, *args):
    try:
        with trio.fail_after(seconds):
            return await coroutine_fn(*args)
    except trio.TooSlowError:
        emit({"op": op_name, "error": f"timed out after {seconds} s"})
        raise OperationFailed()
    except OperationFailed:
        raise
    except Exception as error:
        log.debug("%s failed", op_name, exc_info=True)
        emit({"op": op_name, "error": one_line(error)})
        raise OperationFailed()


async def run_dial(args, key_pair):
    maddr, peer = parse_target(args.maddr)
    host = build_host(key_pair)
    listen_addrs = [] if args.no_listen else [Multiaddr(args.listen)]
    async with host.run(listen_addrs=listen_addrs):
        try:
            start = time.perf_counter()

            async def connect():
                await host.connect(PeerInfo(peer, [maddr]))
                return {
                    "op": "connect",
                    "peer_id": peer.to_base58(),
                    "local_peer_id": host.get_id().to_base58(),
                    "seconds": round(time.perf_counter() - start, 6),
                }

            emit(await timed("connect", args.timeout, connect))
            if args.identify:
                emit(await timed("identify", args.timeout, op_identify, host, peer))
            if args.push_identify:
                emit(await timed("identify-push", args.timeout, op_push_identify, host, peer))
            if args.ping:
                emit(await timed("ping", args.timeout, op_ping, host, peer, args.ping))
            if args.echo is not None:
                emit(await timed("echo", args.timeout, op_echo, host, peer, args.echo))
            if args.perf_upload is not None or args.perf_download is not None:
                emit(
                    await timed(
                        "perf",
                        args.timeout,
                        op_perf,
                        host,
                        peer,
                        args.perf_upload or 0,
                        args.perf_download or 0,
                    )
                )
            for protocol in args.protocol_probe or []:
                emit(await timed("probe", args.timeout, op_probe, host, peer, protocol))
            status = 0
        except OperationFailed:
            status = 1
        arm_exit_watchdog(status)
    return status


# ---------------------------------------------------------------------------------------
# bench-setups


async def one_setup(host, peer, maddr):
    """TCP + Noise + Yamux, then one ping on a first stream."""
    await host.connect(PeerInfo(peer, [maddr]))
    stream = await host.new_stream(peer, [PING_PROTOCOL])
    payload = secrets.token_bytes(32)
    await stream.write(payload)
    if await read_exact(stream, 32) != payload:
        raise ValueError("pong differs from ping")
    await stream.close()


async def run_bench_setups(args, key_pair):
    maddr, peer = parse_target(args.maddr)
    host = build_host(key_pair)
    network = host.get_network()
    if not args.with_identify:
        # BasicHost identifies every new connection in the background (one more stream
        # and protobuf per setup, on the dialer's side); the benchmark measures setups,
        # so the dialer skips it. The listening peer still identifies the dialer.
        network.notifees[:] = [
            n for n in network.notifees if type(n).__name__ != "_IdentifyNotifee"
        ]

    async def bench():
        setup_seconds = 0.0
        async with trio.open_nursery() as closing:
            start = time.perf_counter()
            for _ in range(args.count):
                t0 = time.perf_counter()
                await one_setup(host, peer, maddr)
                setup_seconds += time.perf_counter() - t0
                if args.await_disconnect:
                    await host.disconnect(peer)
                else:
                    # A py-libp2p disconnect sleeps 0.2 s (0.1 s in Yamux.close, 0.1 s
                    # in SwarmConn._cleanup). Forget the connection at once and let it
                    # close in the background, so the next setup dials afresh.
                    for conn in list(network.get_connections(peer)):
                        network.remove_conn(conn)
                        closing.start_soon(conn.close)
            seconds = time.perf_counter() - start
        return {
            "op": "bench-setups",
            "count": args.count,
            "seconds": round(seconds, 6),
            "per_second": round(args.count / seconds, 3),
            "setup_seconds": round(setup_seconds, 6),
            "disconnect": "awaited" if args.await_disconnect else "background",
        }

    async with host.run(listen_addrs=[]):
        try:
            emit(await timed("bench-setups", args.timeout, bench))
            status = 0
        except OperationFailed:
            status = 1
        arm_exit_watchdog(status)
    return status


# ---------------------------------------------------------------------------------------
# main


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="peer.py", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def identity_options(p):
        p.add_argument("--key-type", choices=["ed25519", "secp256k1", "rsa", "ecdsa"], default="ed25519")
        p.add_argument("--seed", help="hex; a deterministic identity (32 bytes used as is, else hashed)")

    listen = sub.add_parser("listen", help="serve until stdin EOF or SIGTERM/SIGINT")
    identity_options(listen)
    listen.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    listen.add_argument("--ignore-stdin", action="store_true", help="run until a signal only")
    listen.add_argument("--quiet", action="store_true", help="no connected/disconnected/echo/identify-push events")

    dial = sub.add_parser("dial", help="connect and run operations")
    dial.add_argument("maddr", help="/ip4/.../tcp/N/p2p/PEER_ID")
    identity_options(dial)
    dial.add_argument("--identify", action="store_true")
    dial.add_argument("--push-identify", action="store_true", help="push our identify to the peer")
    dial.add_argument("--ping", type=int, metavar="N")
    dial.add_argument("--echo", type=int, metavar="BYTES")
    dial.add_argument("--perf-upload", type=int, metavar="N")
    dial.add_argument("--perf-download", type=int, metavar="N")
    dial.add_argument("--protocol-probe", action="append", metavar="PROTO")
    dial.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0", help="the dialer listens too, so identify carries addresses")
    dial.add_argument("--no-listen", action="store_true")
    dial.add_argument("--timeout", type=float, default=60.0, help="seconds per operation")

    bench = sub.add_parser("bench-setups", help="sequential connection setups")
    bench.add_argument("maddr")
    identity_options(bench)
    bench.add_argument("--count", type=int, default=100)
    bench.add_argument("--with-identify", action="store_true", help="keep the dialer's automatic identify")
    bench.add_argument("--await-disconnect", action="store_true", help="await host.disconnect (0.2 s each)")
    bench.add_argument("--timeout", type=float, default=600.0)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.verbose:
        # py-libp2p silences its own "libp2p" logger unless LIBP2P_DEBUG is set.
        libp2p_logger = logging.getLogger("libp2p")
        libp2p_logger.propagate = True
        libp2p_logger.setLevel(logging.DEBUG)
        logging.getLogger("multiaddr").setLevel(logging.INFO)
    install_ecdsa_support()
    try:
        seed = bytes.fromhex(args.seed) if args.seed else None
        key_pair = make_key_pair(args.key_type, seed)
    except ValueError as error:
        emit({"op": "setup", "error": one_line(error)})
        return 2
    runner = {"listen": run_listen, "dial": run_dial, "bench-setups": run_bench_setups}[args.command]
    try:
        status = trio.run(runner, args, key_pair)
    except KeyboardInterrupt:
        status = 0
    except Exception as error:
        log.debug("failed", exc_info=True)
        emit({"op": args.command, "error": one_line(error)})
        status = 1
    return status


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: py-libp2p's background tasks and threads must not hold the exit.
    os._exit(code)
