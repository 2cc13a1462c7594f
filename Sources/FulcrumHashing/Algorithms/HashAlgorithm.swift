/// The consistent-hashing algorithms, by the names users write in config
/// and on the command line.
public enum HashAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case ring
    case ketama
    case nginx
    case maglev
    case jump
    case rendezvous
    case modulo
    case haproxy

    public var description: String { rawValue }

    /// The accepted names, for error messages.
    public static var acceptedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether `hash`, `vnodes` and `tableSize` apply.
    public var takesHashFunction: Bool { self == .ring || self == .rendezvous || self == .modulo }

    /// Builds the structure.
    ///
    /// - Parameters:
    ///   - hashFunction: for `ring`, `rendezvous` and `modulo`; the others use
    ///     the function their reference implementation fixes. `nil` takes
    ///     each algorithm's default.
    ///   - virtualNodes: points per unit of weight for `ring`.
    ///   - tableSize: for `maglev`; must be prime.
    /// - Throws: ``ConsistentHashError`` for bad nodes or parameters.
    public func make(
        nodes: [HashNode],
        hashFunction: HashFunction? = nil,
        virtualNodes: Int? = nil,
        tableSize: Int? = nil
    ) throws(ConsistentHashError) -> any ConsistentHash {
        switch self {
        case .ring:
            try HashRing(
                nodes: nodes,
                virtualNodes: virtualNodes ?? HashRing.defaultVirtualNodes,
                hashFunction: hashFunction ?? .xxh64
            )
        case .ketama: try KetamaRing(nodes: nodes)
        case .nginx: try NginxConsistentHash(nodes: nodes)
        case .maglev: try MaglevTable(nodes: nodes, tableSize: tableSize ?? MaglevTable.defaultTableSize)
        case .jump: try JumpHash(nodes: nodes)
        case .rendezvous: try RendezvousHash(nodes: nodes, hashFunction: hashFunction ?? .xxh64)
        case .modulo: try ModuloHash(nodes: nodes, hashFunction: hashFunction ?? .xxh64)
        case .haproxy: try HAProxyConsistentHash(nodes: nodes)
        }
    }
}
