/// The addresses a resolution meets, as a tree in record order: the address to resolve is
/// the root, and a lookup's results are its children. Answers arrive in any order, but the
/// result is read from the tree depth first, so it follows the records' order.
struct ResolutionTree {
    /// What became of one address.
    enum Status {
        /// Dialable as it is (it starts with an IP address): a leaf of the result.
        case dialable
        /// Its lookup is outstanding.
        case pending
        /// Its lookup finished; these nodes are what it gave, in order.
        case expanded([Int])
        /// It gave nothing, for this reason.
        case failed(MultiaddrResolutionError)
    }

    struct Node {
        let address: Multiaddr
        /// The number of lookups from the root down to this node's own (the root's is 1).
        let depth: Int
        var status: Status
    }

    private(set) var nodes: [Node] = []

    /// The index the next added node gets.
    var nextIndex: Int { nodes.count }

    subscript(index: Int) -> Node {
        nodes[index]
    }

    /// Adds a node and returns its index.
    mutating func add(_ address: Multiaddr, depth: Int, status: Status) -> Int {
        nodes.append(Node(address: address, depth: depth, status: status))
        return nodes.count - 1
    }

    mutating func setStatus(_ status: Status, of index: Int) {
        nodes[index].status = status
    }

    /// The dialable addresses depth first from the root, without duplicates, at most
    /// `limit` of them; and the first failure in the same order (a lookup still pending
    /// counts as timed out).
    func result(limit: Int) -> (addresses: [Multiaddr], firstFailure: MultiaddrResolutionError?) {
        var addresses: [Multiaddr] = []
        var included: Set<Multiaddr> = []
        var firstFailure: MultiaddrResolutionError? = nil
        var stack = nodes.isEmpty ? [] : [0]
        while let index = stack.popLast(), addresses.count < limit {
            let node = nodes[index]
            switch node.status {
            case .dialable:
                if included.insert(node.address).inserted { addresses.append(node.address) }
            case .pending:
                if firstFailure == nil { firstFailure = .timeout }
            case .failed(let error):
                if firstFailure == nil { firstFailure = error }
            case .expanded(let children):
                stack.append(contentsOf: children.reversed())
            }
        }
        return (addresses, firstFailure)
    }
}
