import TraverseCore

/// A loop operation (connect, name lookup, datagram exchange) whose completion runs at most
/// once: after success, failure or cancellation it is `nil`.
protocol OneShotCompletion: AnyObject {
    associatedtype Value
    var eventLoop: EventLoop { get }
    var completion: ((Result<Value, SocketError>) -> Void)? { get set }
}

extension OneShotCompletion {
    /// Reports `error` on the loop's next wake-up, never inside the call that started the
    /// operation, unless the completion ran or was cancelled first.
    func fail(_ error: SocketError) {
        eventLoop.deferToNextWakeup { [self] in
            guard let completion else { return }
            self.completion = nil
            completion(.failure(error))
        }
    }
}
