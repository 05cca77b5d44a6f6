/// A value kept on the heap, with value semantics: copies share the storage until one of
/// them is mutated. A large, rarely present part of a struct held inline in a dictionary
/// costs its full size in every bucket; boxed, it costs a pointer there and its size only
/// where it exists.
struct CopyOnWriteBox<Value> {
    private final class Storage {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    private var storage: Storage

    init(_ value: Value) { storage = Storage(value) }

    /// The boxed value; mutating it copies the storage first when it is shared.
    var value: Value {
        get { storage.value }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.value) }
            yield &storage.value
        }
    }
}

extension CopyOnWriteBox: @unchecked Sendable where Value: Sendable {}

/// An optional value kept on the heap only when present: a pointer inline, the value's
/// size only where it exists. Mutating a present value happens in its box (copied first
/// only when shared), so a hot path that changes it allocates nothing.
struct BoxedOptional<Value> {
    private var box: CopyOnWriteBox<Value?>?

    init(_ value: Value? = nil) {
        box = value.map { CopyOnWriteBox(.some($0)) }
    }

    /// The value, or `nil`.
    var value: Value? {
        get { box?.value ?? nil }
        _modify {
            if box == nil {
                var created: Value? = nil
                defer { if created != nil { box = CopyOnWriteBox(created) } }
                yield &created
            } else {
                defer { if case .none = box!.value { box = nil } }
                yield &box!.value
            }
        }
    }
}

extension BoxedOptional: Sendable where Value: Sendable {}
