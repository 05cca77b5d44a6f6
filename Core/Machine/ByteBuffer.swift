/// A growable byte queue: bytes are appended at the back and read from the front.
///
/// The buffer type of the core's machines. It keeps storage of up to `retainedCapacity`
/// between uses, so small steady traffic allocates nothing once it has grown, and lets larger
/// storage go once it is read empty, so an idle connection or stream does not hold on to
/// what a burst made it grow to. It moves the unread bytes to the front only when more than
/// half the storage has been read.
public struct ByteBuffer: Sendable {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var readIndex = 0

    /// An empty buffer.
    @inlinable public init() {}

    /// The most storage an emptied buffer keeps for its next bytes.
    public static let retainedCapacity = 4096

    /// The number of unread bytes.
    @inlinable public var readableCount: Int { storage.count - readIndex }

    /// Whether no unread bytes remain.
    @inlinable public var isEmpty: Bool { readIndex == storage.count }

    /// Appends `bytes`.
    @inlinable
    public mutating func append(_ bytes: Span<UInt8>) {
        compactBeforeAppend()
        bytes.withUnsafeBufferPointer { storage.append(contentsOf: $0) }
    }

    /// Appends `bytes`.
    @inlinable
    public mutating func append(_ bytes: [UInt8]) {
        compactBeforeAppend()
        storage.append(contentsOf: bytes)
    }

    /// Moves up to `maximum` unread bytes to the end of `destination`; returns how many.
    @inlinable
    public mutating func read(into destination: inout [UInt8], maximum: Int = .max) -> Int {
        let count = min(readableCount, max(0, maximum))
        guard count > 0 else { return 0 }
        if readIndex == 0 && count == storage.count && destination.isEmpty {
            // Hand the storage over instead of copying it (and do not keep the
            // destination's old storage in its place).
            swap(&destination, &storage)
            storage = []
            readIndex = 0
            return count
        }
        destination.append(contentsOf: storage[readIndex..<(readIndex + count)])
        consume(count)
        return count
    }

    /// Calls `body` with the unread bytes (valid only during the call).
    @inlinable
    public func withReadableBytes<Result>(_ body: (Span<UInt8>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer { whole in
            try body(UnsafeBufferPointer(rebasing: whole[readIndex...]).span)
        }
    }

    /// Marks the first `count` unread bytes as read.
    @inlinable
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= readableCount, "consuming more bytes than are buffered")
        readIndex += count
        if readIndex == storage.count {
            removeAll(retainingCapacityUpTo: Self.retainedCapacity)
        }
    }

    /// Drops every unread byte and, when it has grown past `retainedCapacity`, the storage.
    @inlinable
    public mutating func removeAll(retainingCapacityUpTo retainedCapacity: Int = 0) {
        if storage.capacity > retainedCapacity {
            storage = []
        } else {
            storage.removeAll(keepingCapacity: true)
        }
        readIndex = 0
    }

    @inlinable
    mutating func compactBeforeAppend() {
        if readIndex > 0 && readIndex >= storage.count / 2 {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends the bytes of `span`.
    @inlinable
    public mutating func append(_ span: Span<UInt8>) {
        span.withUnsafeBufferPointer { append(contentsOf: $0) }
    }
}
