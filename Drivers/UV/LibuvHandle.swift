import CUV

/// Allocation, casts and closing for libuv handles.
///
/// Every handle this module opens is heap-allocated and its `data` field holds a retained
/// reference to its Swift owner (or nothing). `close(_:)` closes it with one callback that
/// releases that owner and frees the handle, so an owner lives exactly as long as its open
/// handles, and every retain is balanced by the close callback.
enum LibuvHandle {
    /// Zeroed memory for one handle, `data` empty (libuv never sets `data`). Freed by
    /// `close(_:)`'s callback, or by `deallocateUninitialized(_:)` when its `uv_*_init` failed.
    static func allocate<Handle>(_ type: Handle.Type) -> UnsafeMutablePointer<Handle> {
        let handle = UnsafeMutablePointer<Handle>.allocate(capacity: 1)
        UnsafeMutableRawPointer(handle).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Handle>.size)
        return handle
    }

    /// Frees a handle whose `uv_*_init` failed (libuv never saw it).
    static func deallocateUninitialized<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        handle.deallocate()
    }

    /// The handle seen as the `uv_handle_t` every handle type starts with.
    static func base<Handle>(_ handle: UnsafeMutablePointer<Handle>) -> UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutablePointer<uv_handle_t>(OpaquePointer(handle))
    }

    /// The TCP handle seen as the `uv_stream_t` it starts with.
    static func stream(_ handle: UnsafeMutablePointer<uv_tcp_t>) -> UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutablePointer<uv_stream_t>(OpaquePointer(handle))
    }

    /// Stores a retained reference to `owner` in the handle's `data` (released by the close
    /// callback, or by `moveOwner`).
    static func retain<Handle>(_ owner: AnyObject, in handle: UnsafeMutablePointer<Handle>) {
        base(handle).pointee.data = Unmanaged.passRetained(owner).toOpaque()
    }

    /// Makes `owner` the handle's owner, releasing the previous one (a handle changing hands,
    /// such as a connected TCP handle passing from its connect attempt to its socket).
    static func moveOwner<Handle>(of handle: UnsafeMutablePointer<Handle>, to owner: AnyObject) {
        let previous = base(handle).pointee.data
        retain(owner, in: handle)
        if let previous { Unmanaged<AnyObject>.fromOpaque(previous).release() }
    }

    /// The owner stored in a handle's `data`, without changing its retain count.
    static func owner<Handle, Owner: AnyObject>(
        of handle: UnsafeMutablePointer<Handle>, as type: Owner.Type
    ) -> Owner? {
        guard let data = base(handle).pointee.data else { return nil }
        return Unmanaged<Owner>.fromOpaque(data).takeUnretainedValue()
    }

    /// Closes the handle; once libuv is done with it, its owner is released and its memory
    /// freed. Callbacks of its pending requests run first (with `UV_ECANCELED`).
    static func close<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        uv_close(base(handle), releaseOwnerAndFree)
    }
}

/// The close callback of every handle: releases the owner in `data` and frees the memory.
private let releaseOwnerAndFree: uv_close_cb = { handle in
    guard let handle else { return }
    if let data = handle.pointee.data {
        handle.pointee.data = nil
        Unmanaged<AnyObject>.fromOpaque(data).release()
    }
    UnsafeMutableRawPointer(handle).deallocate()
}
