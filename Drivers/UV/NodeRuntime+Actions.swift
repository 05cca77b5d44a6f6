import TraverseCore

/// Carrying out the swarm's actions with libuv, and feeding the outcomes back.
extension NodeRuntime {
    func perform(_ action: SwarmAction) {
        switch action {
        case .listen(let id, let address):
            do {
                let listener = try loop.listenTCP(on: address) { [unowned self] socket in
                    self.accept(socket, listener: id)
                }
                listeners[id] = listener
                swarm.listenerStarted(
                    id, boundAddress: listener.localAddress, interfaces: InterfaceAddresses.current(), now: now)
            } catch {
                swarm.listenerFailed(id, error.transportFailure, now: now)
            }
        case .closeListener(let id):
            listeners.removeValue(forKey: id)?.close()
        case .connect(let id, let remote, let local):
            connectAttempts[id] = loop.connectTCP(to: remote, from: local) { [unowned self] result in
                self.connectAttempts[id] = nil
                switch result {
                case .success(let socket):
                    self.adopt(socket, as: id)
                    self.swarm.connected(id, local: socket.localAddress, now: self.now)
                case .failure(let error):
                    self.swarm.connectFailed(id, error.transportFailure, now: self.now)
                }
                self.drive()
            }
        case .close(let id):
            connectAttempts.removeValue(forKey: id)?.cancel()
            sockets.removeValue(forKey: id)?.closeAfterFlush()
        case .pauseReading(let id):
            sockets[id]?.stopReading()
        case .resumeReading(let id):
            sockets[id]?.startReading()
        case .lookUpHost(let id, let name, let family):
            let hostFamily: HostFamily = switch family {
            case .any: .any
            case .ipv4: .ipv4
            case .ipv6: .ipv6
            }
            loop.resolveHost(name, family: hostFamily) { [unowned self] result in
                self.swarm.hostLookupCompleted(id, result.mapError(\.transportFailure), now: self.now)
                self.drive()
            }
        case .sendDatagram(let id, let server, let payload):
            loop.exchangeDatagram(with: server, payload: payload, timeout: .seconds(5)) { [unowned self] result in
                switch result {
                case .success(let reply): self.swarm.datagramReceived(id, reply.span, now: self.now)
                case .failure(let error): self.swarm.datagramFailed(id, error.transportFailure, now: self.now)
                }
                self.drive()
            }
        }
    }

    private func accept(_ socket: TCPSocket, listener: ListenerID) {
        guard let id = swarm.accepted(
            listener: listener, remote: socket.remoteAddress, local: socket.localAddress, now: now)
        else {
            socket.close()
            return
        }
        adopt(socket, as: id)
        drive()
    }

    /// Wires a socket's callbacks to the swarm and starts reading.
    private func adopt(_ socket: TCPSocket, as id: ConnectionID) {
        sockets[id] = socket
        socket.onRead = { [unowned self] bytes in
            self.swarm.received(id, bytes.bindMemory(to: UInt8.self).span, now: self.now)
            self.drive()
        }
        socket.onClose = { [unowned self] error in
            self.sockets[id] = nil
            self.swarm.transportClosed(id, error?.transportFailure, now: self.now)
            self.drive()
        }
        socket.onWritable = { [unowned self] in
            self.swarm.transportUnblocked(id, now: self.now)
            self.drive()
        }
        socket.startReading()
    }
}
