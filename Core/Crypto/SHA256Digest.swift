import Crypto
import FoundationEssentials

extension Span where Element == UInt8 {
    /// SHA-256 of these bytes as swift-crypto's digest type, for its signature APIs.
    var sha256Digest: Crypto.SHA256.Digest {
        withUnsafeBufferPointer { Crypto.SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }
}
