/// Why a consistent-hashing structure could not be built or changed.
///
/// Like gRPC's `RPCError`, the code is a struct so that new codes can be added
/// without breaking callers that switch over the known ones.
public struct ConsistentHashError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Two nodes share a name.
        public static let duplicateNode = Code("duplicate node")
        /// A weight below 1 or above ``HashNode/maxWeight``.
        public static let invalidWeight = Code("invalid weight")
        /// A Maglev table size that is not prime.
        public static let tableSizeNotPrime = Code("table size not prime")
        /// Another parameter out of range: a vnode count, a bound factor, a node count.
        public static let invalidParameter = Code("invalid parameter")
        /// A node that is not a member.
        public static let unknownNode = Code("unknown node")
        /// A node required something it lacks, such as an id for HAProxy placement.
        public static let missingNodeID = Code("missing node id")

        public var description: String { name }
    }

    public var code: Code
    /// One line for a person: what is wrong and what is accepted.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The most points a ring-style structure may hold: 32 Mi points, 256 MiB
    /// of points and 128 MiB of bucket index.
    static let maxPoints = 1 << 25

    /// Checks that `pointsPerWeight × Σw` stays within ``maxPoints``.
    static func checkPointCount(
        _ nodes: [HashNode],
        pointsPerWeight: Int,
        structure: String,
        remedy: String
    ) throws(ConsistentHashError) {
        let total = nodes.reduce(0) { $0 + $1.weight } * pointsPerWeight
        guard total <= maxPoints else {
            throw ConsistentHashError(
                code: .invalidParameter,
                message: "\(structure) would hold \(total) points (\(pointsPerWeight) per unit of weight); "
                    + "the limit is \(maxPoints): \(remedy)"
            )
        }
    }

    /// Checks what every structure requires of its nodes: weights of at least 1
    /// and unique names.
    static func validate(_ nodes: [HashNode]) throws(ConsistentHashError) {
        var seen = Set<String>()
        seen.reserveCapacity(nodes.count)
        for node in nodes {
            guard node.weight >= 1 && node.weight <= HashNode.maxWeight else {
                throw ConsistentHashError(
                    code: .invalidWeight,
                    message: "node '\(node.name)' has weight \(node.weight); weights must be whole numbers "
                        + "from 1 to \(HashNode.maxWeight)"
                )
            }
            guard seen.insert(node.name).inserted else {
                throw ConsistentHashError(
                    code: .duplicateNode,
                    message: "node '\(node.name)' is given more than once; node names must be unique"
                )
            }
        }
    }
}
