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
