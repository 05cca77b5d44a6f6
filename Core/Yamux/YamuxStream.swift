/// One stream's state inside a `YamuxSession`.
struct YamuxStream: Sendable {
    let id: UInt32
    /// Opened by this side.
    let isOutbound: Bool

    /// Bytes this side may still send (the peer's window for us).
    var sendWindow: UInt32 = YamuxConfiguration.initialWindow
    /// Bytes the peer may still send before our next window update.
    var receiveCredit: UInt32 = YamuxConfiguration.initialWindow
    /// The receive window this side aims for; grows by auto-tuning.
    var receiveWindow: UInt32 = YamuxConfiguration.initialWindow
    /// Bytes read by the owner since the last window update.
    var consumedSinceUpdate: UInt32 = 0
    /// When the last window update was sent (auto-tuning compares it with the RTT).
    var lastWindowUpdate: Instant

    /// Received, unread data.
    var receiveBuffer = ByteBuffer()

    /// This side sent FIN.
    var localClosed = false
    /// The peer sent FIN.
    var remoteClosed = false
    /// For an outbound stream: the peer's ACK (or any reply) arrived.
    var acknowledged: Bool
    /// A `readable` event is outstanding (not yet followed by a read that emptied the buffer).
    var readableSignalled = false
    /// A write was short: tell the owner when the stream can take more.
    var wantsWritable = false

    init(id: UInt32, isOutbound: Bool, now: Instant) {
        self.id = id
        self.isOutbound = isOutbound
        acknowledged = !isOutbound
        lastWindowUpdate = now
    }

    /// Both directions closed and nothing left to read: the stream can be forgotten.
    var isFinished: Bool { localClosed && remoteClosed && receiveBuffer.isEmpty }
}
