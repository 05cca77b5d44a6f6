#!/usr/bin/env python3
"""A py-libp2p 0.8.1 peer for Traverse's interop tests and benchmarks.

Subcommands (see Interop/py/README.md for the full JSON protocol):

    listen        serve identify, ping, /traverse/echo/1.0.0 and /perf/1.0.0 until stdin
                  reaches EOF or SIGTERM/SIGINT arrives; with --relay MADDR also reserve
                  on that circuit relay v2 and take relayed connections
    relay         a circuit relay v2 relay (HOP), serving what `listen` serves too
    dial MADDR    connect (directly, or through a relay to a .../p2p-circuit/p2p/PEER
                  address), then run --identify, --ping, --echo, --perf-*, --protocol-probe
    bench-setups  N sequential connection setups (TCP + Noise + Yamux + one ping stream)

Results and events are JSON objects, one per line on stdout, flushed as they happen.
Diagnostics go to stderr. Exit status 0 on success, 1 when an operation failed, 2 on
bad arguments.
"""

import argparse
import contextlib
import contextvars
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
from libp2p.connection_types import ConnectionType
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
from libp2p.relay.circuit_v2.dcutr import DCUtRProtocol
from libp2p.relay.circuit_v2.config import (
    DEFAULT_MAX_CIRCUIT_BYTES,
    DEFAULT_MAX_CIRCUIT_CONNS,
    DEFAULT_MAX_CIRCUIT_DURATION,
    DEFAULT_MAX_RESERVATIONS,
    DEFAULT_RESERVATION_TTL,
    RelayConfig,
    RelayRole,
)
from libp2p.relay.circuit_v2.pb.circuit_pb2 import HopMessage, StopMessage, Voucher as PbVoucher
from libp2p.relay.circuit_v2.protocol import PROTOCOL_ID as HOP_PROTOCOL, CircuitV2Protocol
from libp2p.relay.circuit_v2.protocol_buffer import StatusCode
from libp2p.relay.circuit_v2.resources import RelayLimits
from libp2p.relay.circuit_v2.transport import CircuitV2Transport
from libp2p.tools.anyio_service import background_trio_service

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
        event = {"event": "connected", "peer_id": conn.muxed_conn.peer_id.to_base58()}
        if is_relayed_conn(conn.muxed_conn):
            event["relayed"] = True
        emit_event(event)

    async def disconnected(self, network, conn):
        event = {"event": "disconnected", "peer_id": conn.muxed_conn.peer_id.to_base58()}
        if is_relayed_conn(conn.muxed_conn):
            event["relayed"] = True
        emit_event(event)

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
    relayed = {"relayed": True} if is_relayed_conn(stream.muxed_conn) else {}
    total = 0
    try:
        while True:
            data = await read_some(stream)
            if not data:
                break
            await stream.write(data)
            total += len(data)
        await stream.close()
        emit_event({"event": "echo", "peer_id": peer, "bytes": total, **relayed})
    except Exception as error:
        emit_event({"event": "echo", "peer_id": peer, "bytes": total, **relayed, "error": one_line(error)})
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


async def serve_app_protocols(host):
    """echo and perf beside py-libp2p's own identify, identify push and ping."""
    host.set_stream_handler(ECHO_PROTOCOL, handle_echo)
    perf = PerfService(host, {"write_block_size": CHUNK})
    await perf.start()
    observe_identify_push(host)


async def serve_until_stop(args, first_line, background=None):
    """Prints `first_line` once the stop signals are watched, then serves until stdin
    EOF or SIGTERM/SIGINT. `background(nursery)` then runs beside; a non-zero status it
    returns ends the run with that status. Returns the exit status."""
    status = 0
    async with trio.open_nursery() as nursery:

        async def stop_after(waiter, reason, task_status=trio.TASK_STATUS_IGNORED):
            await waiter(task_status=task_status)
            emit({"event": "stopping", "reason": reason})
            arm_exit_watchdog(0)
            nursery.cancel_scope.cancel()

        async def run_background():
            nonlocal status
            code = await background(nursery)
            if code:
                status = code
                arm_exit_watchdog(code)
                nursery.cancel_scope.cancel()

        # Watch for the stop signals first, so that a stop sent right after the
        # first line is never missed.
        await nursery.start(stop_after, wait_for_signal, "signal")
        if not args.ignore_stdin:
            await nursery.start(stop_after, wait_for_stdin_eof, "stdin-eof")
        emit(first_line)
        if background is not None:
            nursery.start_soon(run_background)
    return status


def listening_line(args, host):
    return {
        "event": "listening",
        "peer_id": host.get_id().to_base58(),
        "key_type": args.key_type,
        "addrs": [str(a) for a in host.get_addrs()],
    }


async def run_listen(args, key_pair):
    global quiet
    quiet = args.quiet
    relay = parse_target(args.relay) if args.relay else None
    host = build_host(key_pair)
    host.get_network().register_notifee(EventNotifee())
    listen_addr = Multiaddr(args.listen)
    async with host.run(listen_addrs=[listen_addr]), contextlib.AsyncExitStack() as stack:
        await serve_app_protocols(host)
        if args.dcutr:
            # py-libp2p's DCUtR: it answers /libp2p/dcutr and drives hole punches on its
            # relayed connections itself (every 2 s).
            await stack.enter_async_context(background_trio_service(DCUtRProtocol(host)))
        if relay is None:
            return await serve_until_stop(args, listening_line(args, host))
        # The STOP side: py-libp2p's CircuitV2Protocol (no HOP) takes relayed
        # connections in; its transport makes the reservation and keeps it refreshed.
        protocol = ObservedStopProtocol(host, allow_hop=False)
        async with background_trio_service(protocol):
            transport = CircuitV2Transport(
                host, protocol, RelayConfig(roles=RelayRole.STOP | RelayRole.CLIENT)
            )

            async def reserve(nursery):
                return await reserve_on_relay(host, transport, relay, nursery, args.timeout)

            return await serve_until_stop(args, listening_line(args, host), reserve)


# ---------------------------------------------------------------------------------------
# Circuit relay v2


def is_relayed_conn(muxed_conn):
    try:
        return muxed_conn.get_connection_type() == ConnectionType.RELAYED
    except Exception:
        return False


def is_circuit_addr(maddr):
    return "/p2p-circuit" in str(maddr)


def status_name(code):
    try:
        return StatusCode(code).name
    except ValueError:
        return str(code)


class FirstMessageRecorder:
    """Passes a stream through and keeps the bytes read until they hold one complete
    varint-length-prefixed message (the first message on a HOP or STOP stream); after
    that it only passes reads through (a CONNECT stream goes on as the relayed
    connection). `on_message(message or None)` is called once it is complete."""

    def __init__(self, stream, message_class=HopMessage, on_message=None):
        self._stream = stream
        self._message_class = message_class
        self._on_message = on_message
        self.received = bytearray()
        self.complete = False

    async def read(self, n=None):
        data = await self._stream.read(n)
        if not self.complete and data:
            self.received += data
            try:
                length, pos = decode_uvarint(self.received, 0)
                self.complete = len(self.received) >= pos + length
            except ValueError:
                self.complete = len(self.received) > 10
            if self.complete and self._on_message is not None:
                self._on_message(self.message())
        return data

    def message(self):
        """The first message read, or None."""
        try:
            length, pos = decode_uvarint(self.received, 0)
            if len(self.received) < pos + length:
                return None
            message = self._message_class()
            message.ParseFromString(bytes(self.received[pos : pos + length]))
            return message
        except Exception:
            return None

    def __getattr__(self, name):
        return getattr(self._stream, name)


class ObservedStopProtocol(CircuitV2Protocol):
    """py-libp2p's STOP side (no HOP), unchanged on the wire, printing each STOP
    CONNECT it reads: who connects through which relay, with which limit."""

    async def _handle_stop_stream(self, stream):
        relay = stream.muxed_conn.peer_id.to_base58()

        def read(message):
            event = {"event": "stop", "relay": relay}
            if message is None:
                event["error"] = "unreadable STOP message"
            else:
                try:
                    event["peer_id"] = ID(message.peer.id).to_base58()
                except Exception:
                    event["peer_id"] = None
                event["type"] = StopMessage.Type.Name(message.type) if message.HasField("type") else None
                event["limit"] = describe_limit(message)
            emit_event(event)

        await super()._handle_stop_stream(FirstMessageRecorder(stream, StopMessage, read))


class HopRecordingHost:
    """The host as CircuitV2Transport sees it: HOP streams it opens are recorded
    (FirstMessageRecorder), so the relay's answers (status, reservation, limit) can be
    reported; py-libp2p's transport keeps only a yes or no."""

    def __init__(self, host):
        self._host = host
        self.hop_streams = []

    async def new_stream(self, peer_id, protocol_ids):
        stream = await self._host.new_stream(peer_id, protocol_ids)
        if HOP_PROTOCOL in protocol_ids:
            stream = FirstMessageRecorder(stream)
            self.hop_streams.append(stream)
        return stream

    def __getattr__(self, name):
        return getattr(self._host, name)


def describe_limit(message):
    if message is None or not message.HasField("limit"):
        return None
    limit = message.limit
    return {
        "duration": limit.duration if limit.HasField("duration") else None,
        "data": limit.data if limit.HasField("data") else None,
    }


RELAY_VOUCHER_DOMAIN = "libp2p-relay-rsvp"
RELAY_VOUCHER_PAYLOAD_TYPE = bytes([0x03, 0x02])


def describe_voucher(voucher_bytes, relay, peer, expire):
    """A reservation voucher checked with py-libp2p's envelope code: the signature in
    the libp2p-relay-rsvp domain, the payload type 0x0302, the signer is the relay, and
    the voucher names the relay, us and the reservation's expiration."""
    if not voucher_bytes:
        return {"present": False, "valid": False}
    out = {"present": True, "valid": False}
    try:
        envelope = py_envelope.unmarshal_envelope(voucher_bytes)
        out["payload_type"] = envelope.payload_type.hex()
        payload = PbVoucher()
        payload.ParseFromString(bytes(envelope.raw_payload))
        out["relay"] = ID(payload.relay).to_base58()
        out["peer"] = ID(payload.peer).to_base58()
        out["expiration"] = payload.expiration
        problems = []
        try:
            envelope.validate(RELAY_VOUCHER_DOMAIN)
        except ValueError:
            problems.append("bad envelope signature")
        if bytes(envelope.payload_type) != RELAY_VOUCHER_PAYLOAD_TYPE:
            problems.append("payload type is not 0302")
        if ID.from_pubkey(envelope.public_key) != relay:
            problems.append("not signed by the relay")
        if ID(payload.relay) != relay:
            problems.append("voucher relay is not the relay")
        if ID(payload.peer) != peer:
            problems.append("voucher peer is not us")
        if payload.expiration != expire:
            problems.append("voucher expiration differs from the reservation's")
        out["valid"] = not problems
        if problems:
            out["problem"] = "; ".join(problems)
    except Exception as error:
        out["problem"] = one_line(error)
    return out


def circuit_addrs(relay_addrs, relay_maddr, relay, peer):
    """Our addresses through the relay: each relay address (with /p2p/RELAY) then
    /p2p-circuit/p2p/PEER; the address we reached the relay at when it gave none."""
    out = []
    for addr in relay_addrs or [str(relay_maddr)]:
        if "/p2p/" not in addr:
            addr += f"/p2p/{relay.to_base58()}"
        out.append(f"{addr}/p2p-circuit/p2p/{peer.to_base58()}")
    return out


async def reserve_on_relay(host, transport, relay, nursery, timeout):
    """Connects to the relay, then py-libp2p's CircuitV2Transport.reserve on a HOP
    stream (it starts its refresher in `nursery`); prints the "reserved" line.
    Returns 0, or 1 after an error line."""
    relay_maddr, relay_id = relay
    line = {"event": "reserved", "relay": relay_id.to_base58()}
    start = time.perf_counter()
    try:
        with trio.fail_after(timeout):
            await host.connect(PeerInfo(relay_id, [relay_maddr]))
            stream = FirstMessageRecorder(await host.new_stream(relay_id, [HOP_PROTOCOL]))
            granted = await transport.reserve(stream, relay_id, nursery)
        try:
            await stream.close()
        except Exception:
            pass
    except trio.TooSlowError:
        line["error"] = f"timed out after {timeout} s"
        emit(line)
        return 1
    except Exception as error:
        log.debug("reservation failed", exc_info=True)
        line["error"] = one_line(error)
        emit(line)
        return 1
    answer = stream.message()
    if not granted:
        if answer is not None and answer.HasField("status"):
            line["status"] = answer.status
            line["error"] = f"reservation refused: {status_name(answer.status)}"
        else:
            line["error"] = "reservation failed (no answer from the relay, see stderr)"
        emit(line)
        return 1
    me = host.get_id()
    relay_addrs = []
    expire = None
    voucher = b""
    if answer is not None and answer.HasField("reservation"):
        expire = answer.reservation.expire
        voucher = bytes(answer.reservation.voucher)
        for raw in answer.reservation.addrs:
            try:
                relay_addrs.append(str(Multiaddr(raw)))
            except Exception:
                relay_addrs.append("hex:" + raw.hex())
    line.update(
        {
            "addrs": circuit_addrs(
                [a for a in relay_addrs if not a.startswith("hex:")], relay_maddr, relay_id, me
            ),
            "relay_addrs": relay_addrs,
            "expire": expire,
            "ttl_seconds": None if expire is None else expire - int(time.time()),
            "limit": describe_limit(answer),
            "voucher": describe_voucher(voucher, relay_id, me, expire),
            "seconds": round(time.perf_counter() - start, 6),
        }
    )
    emit(line)
    return 0


class AnswerObserver:
    """Passes a HOP stream through to py-libp2p's handler and calls `answered` with the
    first HopMessage the handler writes (one write: varint length, then the message)."""

    def __init__(self, stream, answered):
        self._stream = stream
        self._answered = answered

    async def write(self, data):
        if self._answered is not None:
            answered, self._answered = self._answered, None
            try:
                length, pos = decode_uvarint(data, 0)
                message = HopMessage()
                message.ParseFromString(bytes(data[pos : pos + length]))
            except Exception:
                message = None
            answered(message)
        return await self._stream.write(data)

    def __getattr__(self, name):
        return getattr(self._stream, name)


_circuit = contextvars.ContextVar("traverse_circuit", default=None)


class ObservedRelayProtocol(CircuitV2Protocol):
    """py-libp2p's relay (HOP and STOP), unchanged on the wire, printing what it does:
    reservations, circuits opened, refused and closed."""

    async def _handle_reserve(self, stream, msg):
        # py-libp2p takes the peer from RESERVE's `peer` field when present.
        try:
            if msg.HasField("peer") and msg.peer.id:
                peer = ID(msg.peer.id)
            else:
                peer = stream.muxed_conn.peer_id
        except Exception:
            peer = stream.muxed_conn.peer_id
        renewal = self.resource_manager.has_reservation(peer)

        def answered(message):
            event = {"event": "reservation", "peer_id": peer.to_base58()}
            if message is None:
                event["error"] = "unreadable answer"
            elif message.status == StatusCode.OK and message.HasField("reservation"):
                event.update({"renewal": renewal, "expire": message.reservation.expire})
            else:
                event.update({"status": message.status, "error": status_name(message.status)})
            emit_event(event)

        # The event goes out as the answer is written (py then sleeps 0.1 s).
        await super()._handle_reserve(AnswerObserver(stream, answered), msg)

    async def _handle_connect(self, stream, msg):
        try:
            dst = ID(msg.peer.id).to_base58()
        except Exception:
            dst = None
        circuit = {
            "src_peer_id": stream.muxed_conn.peer_id.to_base58(),
            "dst_peer_id": dst,
            "bytes": 0,
            "opened": None,
            "end": None,
        }
        token = _circuit.set(circuit)
        try:
            await super()._handle_connect(stream, msg)
        finally:
            _circuit.reset(token)
            if circuit["opened"] is not None:
                event = {
                    "event": "circuit-closed",
                    "src_peer_id": circuit["src_peer_id"],
                    "dst_peer_id": circuit["dst_peer_id"],
                    "bytes": circuit["bytes"],
                    "seconds": round(time.perf_counter() - circuit["opened"], 6),
                }
                if circuit["end"]:
                    event["reason"] = circuit["end"]
                emit_event(event)

    async def _send_status(self, stream, code, message, limit=None):
        circuit = _circuit.get()
        if circuit is not None:
            ends = {"src_peer_id": circuit["src_peer_id"], "dst_peer_id": circuit["dst_peer_id"]}
            if circuit["opened"] is None and code == StatusCode.OK:
                circuit["opened"] = time.perf_counter()
                emit_event({"event": "circuit-opened", **ends})
            elif circuit["opened"] is None:
                emit_event(
                    {"event": "circuit-refused", **ends, "status": int(code), "error": f"{status_name(code)}: {message}"}
                )
            else:
                circuit["end"] = f"{status_name(code)}: {message}"
        await super()._send_status(stream, code, message, limit)

    async def _read_stream_with_retry(self, stream, *rest, **kw):
        data = await super()._read_stream_with_retry(stream, *rest, **kw)
        circuit = _circuit.get()
        if circuit is not None and data:
            circuit["bytes"] += len(data)
        return data


def relay_limits(args):
    return RelayLimits(
        duration=args.limit_duration,
        data=args.limit_data,
        max_circuit_conns=args.max_circuits,
        max_reservations=args.max_reservations,
        reservation_ttl=args.reservation_ttl,
    )


async def run_relay(args, key_pair):
    global quiet
    quiet = args.quiet
    limits = relay_limits(args)
    host = build_host(key_pair)
    host.get_network().register_notifee(EventNotifee())
    async with host.run(listen_addrs=[Multiaddr(args.listen)]):
        await serve_app_protocols(host)
        protocol = ObservedRelayProtocol(host, limits=limits, allow_hop=True)
        async with background_trio_service(protocol):
            line = listening_line(args, host)
            line["limits"] = {
                "duration": limits.duration,
                "data": limits.data,
                "max_circuits": limits.max_circuit_conns,
                "max_reservations": limits.max_reservations,
                "reservation_ttl": limits.reservation_ttl,
            }
            return await serve_until_stop(args, line)


# ---------------------------------------------------------------------------------------
# dial


def mark_relayed(result, stream):
    """Adds "relayed": true to an operation's line when its stream ran over a relayed
    connection (lines of direct connections are unchanged)."""
    if is_relayed_conn(stream.muxed_conn):
        result["relayed"] = True
    return result


async def op_identify(host, peer):
    stream = await host.new_stream(peer, [IDENTIFY_PROTOCOL])
    data = await read_to_end(stream, MAX_IDENTIFY_BYTES)
    try:
        await stream.close()
    except Exception:
        pass
    result = {"op": "identify", "peer_id": peer.to_base58()}
    result.update(describe_identify(parse_identify(data), peer))
    return mark_relayed(result, stream)


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
    return mark_relayed({"op": "ping", "streams": 1, "count": count, "rtt_ms": rtts}, stream)


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
    result = {
        "op": "echo",
        "bytes": size,
        "received": len(received),
        "identical": bytes(received) == payload,
        "seconds": round(seconds, 6),
    }
    return mark_relayed(result, stream)


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
    return mark_relayed(result, stream)


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
    result = mark_relayed({"op": "probe", "protocol": protocol, "supported": True}, stream)
    try:
        await stream.reset()
    except Exception:
        pass
    return result


def parse_target(text):
    maddr = Multiaddr(text)
    # The last /p2p: a circuit address .../p2p/RELAY/p2p-circuit/p2p/TARGET names two.
    peer_text = maddr.get_peer_id()
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
        emit({"op": op_name, "error": one_line(error), **getattr(error, "fields", {})})
        raise OperationFailed()


async def run_dial(args, key_pair):
    maddr, peer = parse_target(args.maddr)
    relayed = is_circuit_addr(maddr)
    host = build_host(key_pair)
    listen_addrs = [] if args.no_listen else [Multiaddr(args.listen)]
    async with host.run(listen_addrs=listen_addrs), contextlib.AsyncExitStack() as stack:
        if args.dcutr:
            await stack.enter_async_context(background_trio_service(DCUtRProtocol(host)))
        if relayed:
            # py-libp2p's host dial skips /p2p-circuit addresses: its CircuitV2Transport
            # dials them (connects to the relay, then HOP CONNECT on a new stream). With
            # the CLIENT role (py's default) it first makes a reservation of its own.
            relay_protocol = CircuitV2Protocol(host, allow_hop=False)
            await stack.enter_async_context(background_trio_service(relay_protocol))
            roles = RelayRole.STOP if args.no_reserve else RelayRole.STOP | RelayRole.CLIENT
            recording_host = HopRecordingHost(host)
            transport = CircuitV2Transport(recording_host, relay_protocol, RelayConfig(roles=roles))
        try:
            start = time.perf_counter()

            async def connect():
                line = {"op": "connect", "peer_id": peer.to_base58(), "local_peer_id": host.get_id().to_base58()}
                if not relayed:
                    await host.connect(PeerInfo(peer, [maddr]))
                    line["seconds"] = round(time.perf_counter() - start, 6)
                    return line
                try:
                    conn = await transport.dial(maddr)
                except Exception as error:
                    # The relay's answer to CONNECT, when it refused.
                    answer = recording_host.hop_streams[-1].message() if recording_host.hop_streams else None
                    if answer is not None and answer.HasField("status") and answer.status != StatusCode.OK:
                        error.fields = {"status": answer.status, "status_name": status_name(answer.status)}
                    raise
                answers = [s.message() for s in recording_host.hop_streams]
                seconds = round(time.perf_counter() - start, 6)
                if not is_relayed_conn(conn.muxed_conn):
                    raise RuntimeError("CircuitV2Transport.dial gave a connection that is not relayed")
                relay_ma, _ = transport.parse_circuit_ma(maddr)
                line.update({"seconds": seconds, "relayed": True, "relay": relay_ma.get_peer_id()})
                if not args.no_reserve:
                    reserve = answers[0] if len(answers) > 1 else None
                    line["reserved"] = (
                        reserve is not None and reserve.HasField("status") and reserve.status == StatusCode.OK
                    )
                line["limit"] = describe_limit(answers[-1] if answers else None)
                return line

            emit(await timed("connect", args.timeout, connect))
            if args.identify:
                emit(await timed("identify", args.timeout, op_identify, host, peer))
            if args.push_identify:
                emit(await timed("identify-push", args.timeout, op_push_identify, host, peer))
            if args.ping:
                emit(await timed("ping", args.timeout, op_ping, host, peer, args.ping))
            for _ in range(args.ping_rounds):
                # One stream per round: "relayed" says which connection carried it.
                await trio.sleep(args.ping_interval)
                emit(await timed("ping", args.timeout, op_ping, host, peer, 1))
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
    listen.add_argument(
        "--relay",
        metavar="MADDR",
        help="also reserve a slot on this circuit relay v2 (MADDR ends with /p2p/RELAY_ID) and take relayed connections",
    )
    listen.add_argument("--timeout", type=float, default=60.0, help="seconds for the reservation (--relay)")
    listen.add_argument("--dcutr", action="store_true", help="run py-libp2p's DCUtR (hole punching) service")

    relay = sub.add_parser("relay", help="a circuit relay v2 relay (HOP) until stdin EOF or SIGTERM/SIGINT")
    identity_options(relay)
    relay.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    relay.add_argument("--ignore-stdin", action="store_true", help="run until a signal only")
    relay.add_argument("--quiet", action="store_true", help="no connection, echo, reservation or circuit events")
    relay.add_argument(
        "--limit-duration", type=int, default=DEFAULT_MAX_CIRCUIT_DURATION, metavar="SECONDS",
        help="per circuit, 0 = none (py default %(default)s)",
    )
    relay.add_argument(
        "--limit-data", type=int, default=DEFAULT_MAX_CIRCUIT_BYTES, metavar="BYTES",
        help="per circuit, both directions together (py default %(default)s)",
    )
    relay.add_argument(
        "--max-circuits", type=int, default=DEFAULT_MAX_CIRCUIT_CONNS, metavar="N",
        help="concurrent circuits to one reserved peer (py default %(default)s)",
    )
    relay.add_argument(
        "--max-reservations", type=int, default=DEFAULT_MAX_RESERVATIONS, metavar="N",
        help="reservations in total (py default %(default)s)",
    )
    relay.add_argument(
        "--reservation-ttl", type=int, default=DEFAULT_RESERVATION_TTL, metavar="SECONDS",
        help="(py default %(default)s)",
    )

    dial = sub.add_parser("dial", help="connect and run operations")
    dial.add_argument("maddr", help="/ip4/.../tcp/N/p2p/PEER_ID")
    identity_options(dial)
    dial.add_argument("--identify", action="store_true")
    dial.add_argument("--push-identify", action="store_true", help="push our identify to the peer")
    dial.add_argument("--ping", type=int, metavar="N")
    dial.add_argument("--ping-rounds", type=int, default=0, metavar="K", help="K more pings, each on a new stream")
    dial.add_argument("--ping-interval", type=float, default=0.5, metavar="S", help="seconds before each round")
    dial.add_argument("--dcutr", action="store_true", help="run py-libp2p's DCUtR (hole punching) service")
    dial.add_argument("--echo", type=int, metavar="BYTES")
    dial.add_argument("--perf-upload", type=int, metavar="N")
    dial.add_argument("--perf-download", type=int, metavar="N")
    dial.add_argument("--protocol-probe", action="append", metavar="PROTO")
    dial.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0", help="the dialer listens too, so identify carries addresses")
    dial.add_argument("--no-listen", action="store_true")
    dial.add_argument("--timeout", type=float, default=60.0, help="seconds per operation")
    dial.add_argument(
        "--no-reserve", action="store_true",
        help="circuit addresses: CONNECT without first making a reservation (py's CLIENT role does)",
    )

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
    runner = {
        "listen": run_listen,
        "relay": run_relay,
        "dial": run_dial,
        "bench-setups": run_bench_setups,
    }[args.command]
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
