import DequeModule

// Per-connection collections give their storage back once they are empty, so an idle
// connection holds none: a dictionary or deque never shrinks on removal by itself.

extension Dictionary {
    /// Removes the value for `key`; lets the storage go when nothing is left.
    @inlinable
    @discardableResult
    mutating func removeValueReleasingEmptyStorage(forKey key: Key) -> Value? {
        let value = removeValue(forKey: key)
        if isEmpty { self = [:] }
        return value
    }
}

extension Set {
    /// Removes `member`; lets the storage go when nothing is left.
    @inlinable
    @discardableResult
    mutating func removeReleasingEmptyStorage(_ member: Element) -> Element? {
        let removed = remove(member)
        if isEmpty { self = [] }
        return removed
    }
}

extension Deque {
    /// Removes the first element; lets the storage go when nothing is left.
    @inlinable
    mutating func popFirstReleasingEmptyStorage() -> Element? {
        guard let first = popFirst() else { return nil }
        if isEmpty { self = [] }
        return first
    }
}
