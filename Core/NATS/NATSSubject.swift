/// The rules of NATS subjects, as this client checks them before sending.
public enum NATSSubject {
    /// Whether `subject` is a valid subject: 1 to `maximumLength` bytes, no blanks or
    /// control characters, tokens separated by single dots, none empty. With
    /// `allowWildcards` (SUB), a token may be `*`, and the last may be `>`; without (PUB,
    /// reply subjects), neither may appear as a token.
    public static func isValid(_ subject: String, allowWildcards: Bool, maximumLength: Int = 1024) -> Bool {
        let bytes = subject.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        guard !bytes.contains(where: { $0 <= 32 || $0 == 127 }) else { return false }
        let tokens = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            guard !token.isEmpty else { return false }
            let isStar = token.elementsEqual([UInt8(ascii: "*")])
            let isTail = token.elementsEqual([UInt8(ascii: ">")])
            if isStar || isTail {
                guard allowWildcards else { return false }
                if isTail && index != tokens.count - 1 { return false }
            }
        }
        return true
    }

    /// Whether `group` is a valid queue group name: 1 to `maximumLength` bytes, no blanks or
    /// control characters.
    public static func isValidQueueGroup(_ group: String, maximumLength: Int = 1024) -> Bool {
        let bytes = group.utf8
        return !bytes.isEmpty && bytes.count <= maximumLength && !bytes.contains(where: { $0 <= 32 || $0 == 127 })
    }
}
