import Foundation
import TraverseCore
import TraverseUV

/// Prints a node's events, one line each (`listen` and `relay`). Circuit addresses from a
/// granted reservation are always printed; the rest only without `--quiet`.
struct NodeEventLog {
    let out: Output
    let quiet: Bool

    func run(_ events: AsyncStream<NodeEvent>) async {
        var printedCircuitAddresses: Set<Multiaddr> = []
        for await event in events {
            switch event {
            case .reservationAccepted(let relay, let addresses, let expiration, _):
                for address in addresses where printedCircuitAddresses.insert(address).inserted {
                    out.emit(address.description, fields: [
                        "event": "listening", "address": address.description, "relay": relay.description,
                        "expiration": Int(clamping: expiration),
                    ])
                }
            case .reservationFailed(let relay, let failure, let willRetry):
                out.emit(
                    "reservation on \(relay) failed: \(failure)\(willRetry ? " (will retry)" : "")",
                    fields: ["event": "reservation_failed", "relay": relay.description, "error": "\(failure)", "retry": willRetry])
            default:
                guard !quiet else { continue }
                log(event)
            }
        }
    }

    private func log(_ event: NodeEvent) {
        switch event {
        case .connectionEstablished(let summary):
            out.emit(
                "connected \(summary.peer) \(summary.direction) \(summary.remoteAddress) (\(summary.tier))",
                fields: [
                    "event": "connected", "peer_id": summary.peer.description, "direction": "\(summary.direction)",
                    "address": summary.remoteAddress.description, "relayed": summary.isRelayed,
                    "tier": summary.tier.description,
                ])
        case .connectionClosed(let summary, let reason):
            out.emit(
                "disconnected \(summary.peer) \(summary.remoteAddress): \(reason)",
                fields: [
                    "event": "disconnected", "peer_id": summary.peer.description,
                    "address": summary.remoteAddress.description, "reason": "\(reason)",
                ])
        case .peerIdentified(let peer, let info):
            out.emit(
                "identified \(peer) \(info.agentVersion ?? "?")",
                fields: [
                    "event": "identified", "peer_id": peer.description, "agent_version": info.agentVersion ?? "",
                    "protocols": info.protocols,
                ])
        case .circuitLimitReached(let connection, let reason):
            out.emit("\(connection): relay limit reached: \(reason)", fields: [
                "event": "circuit_limit_reached", "connection": Int(clamping: connection.rawValue), "reason": "\(reason)",
            ])
        case .relayReservationGranted(let peer):
            out.emit("reservation granted to \(peer)", fields: ["event": "reservation", "peer_id": peer.description])
        case .relayReservationExpired(let peer):
            out.emit("reservation of \(peer) ended", fields: ["event": "reservation_ended", "peer_id": peer.description])
        case .relayRequestRefused(let peer, let refusal):
            out.emit("refused \(peer): \(refusal.label) (\(refusal.status))", fields: [
                "event": "refused", "peer_id": peer.description, "reason": refusal.label, "status": "\(refusal.status)",
            ])
        case .relayCircuitOpened(let id, let source, let target):
            out.emit("\(id) opened \(source) -> \(target)", fields: [
                "event": "circuit_opened", "circuit": Int(clamping: id.value), "src_peer_id": source.description,
                "dst_peer_id": target.description,
            ])
        case .relayCircuitClosed(let id, let end):
            out.emit(
                "\(id) closed: \(end.reason.label), \(end.sourceToTargetBytes) B forth, \(end.targetToSourceBytes) B back",
                fields: [
                    "event": "circuit_closed", "circuit": Int(clamping: id.value), "reason": end.reason.label,
                    "bytes_to_target": Int(clamping: end.sourceToTargetBytes),
                    "bytes_to_source": Int(clamping: end.targetToSourceBytes),
                ])
        case .holePunchSucceeded(let peer, _, let attempt, let time):
            let milliseconds = Double(time.components.seconds) * 1000 + Double(time.components.attoseconds) / 1e15
            out.emit(String(format: "direct connection to \(peer) by hole punching (attempt %d, %.1f ms after relayed)", attempt, milliseconds), fields: [
                "event": "hole_punch_succeeded", "peer_id": peer.description, "attempt": attempt,
                "time_to_direct_ms": milliseconds,
            ])
        case .holePunchFailed(let peer, let failure):
            out.emit("hole punching with \(peer) failed: \(failure)", fields: [
                "event": "hole_punch_failed", "peer_id": peer.description, "reason": failure.description,
            ])
        case .autoNATResult(let peer, let result):
            out.emit("AutoNAT via \(peer): \(result.description)", fields: [
                "event": "autonat_result", "peer_id": peer.description, "result": result.description,
            ])
        case .reachabilityChanged(let status):
            out.emit(
                "reachability \(status.reachability) (confidence \(status.confidence)), NAT \(status.natType), "
                    + "public addresses [\(status.publicAddresses.map(\.description).joined(separator: ", "))], "
                    + (status.relayRequired ? "relay required" : "no relay required"),
                fields: [
                    "event": "reachability_changed", "reachability": status.reachability.description,
                    "confidence": status.confidence, "nat_type": status.natType.description,
                    "public_addresses": status.publicAddresses.map(\.description), "relay_required": status.relayRequired,
                ])
        case .natsConnected(let info):
            out.emit("NATS server connected (\(info.serverID), max payload \(info.maximumPayload) B)", fields: [
                "event": "nats_connected", "server_id": info.serverID, "max_payload": info.maximumPayload,
            ])
        case .natsDisconnected(let reason):
            out.emit("NATS: \(reason)", fields: ["event": "nats_disconnected", "reason": reason.description])
        case .natsPipeFailed(let connection, let error):
            out.emit("\(connection): NATS pipe failed: \(error)", fields: [
                "event": "nats_pipe_failed", "connection": Int(clamping: connection.rawValue), "reason": error.description,
            ])
        case .listening, .addressObserved, .reservationAccepted, .reservationFailed:
            break
        }
    }
}
