import ArgumentParser
import FulcrumHashing

struct Ring: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look keys up on a consistent-hashing structure, or simulate its balance and movement.",
        subcommands: [Lookup.self, Simulate.self]
    )
}

extension Ring {
    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read keys from standard input, one per line; print each key's node, one per line, in order."
        )

        @OptionGroup var options: HashingOptions

        func run() throws {
            let (algorithm, function) = try options.resolvedAlgorithm()
            let structure = try options.make(algorithm, function, nodes: try options.explicitNodes())
            try lookup(structure)
        }

        private func lookup(_ structure: some ConsistentHash) throws {
            let names = structure.namesByIndex().map { Array(($0 ?? "").utf8) + [0x0A] }
            var output = OutputBuffer()
            var reader = LineReader()
            if let factor = options.bound {
                let bounded = try BoundedLoads(structure, factor: factor)
                var loads = [Int](repeating: 0, count: names.count)  // indexed like names
                var total = 0
                try reader.forEachLine { key in
                    let index = bounded.index(forKey: key, load: { loads[$0] }, totalLoad: total)!
                    loads[index] += 1
                    total += 1
                    output.append(names[index])
                }
            } else {
                try reader.forEachLine { key in
                    output.append(names[structure.index(forKey: key)!])
                }
            }
            output.flush()
        }
    }
}

extension Ring {
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place keys key-0 … key-(K-1) and report the balance, and the keys moved by --add or --remove.",
            discussion: """
                The report describes the layout after --add or --remove, with "before" describing the layout \
                they started from. stddev is the standard deviation over nodes of share / ideal_share. \
                minimum_moved_fraction is the share of keys that any consistent scheme must move: those of the \
                removed node, or those the added node now holds.
                """
        )

        @OptionGroup var options: HashingOptions

        @Option(help: "Use N equal nodes named node-1 … node-N instead of --node.")
        var nodes: Int?

        @Option(help: "How many keys to place.")
        var keys: Int = 100_000

        @Option(help: "Add this node, NAME[=WEIGHT], and report the keys moved.")
        var add: String?

        @Option(help: "Remove this node and report the keys moved.")
        var remove: String?

        @Flag(help: "Print JSON for scripts.")
        var json = false

        func run() throws {
            let (algorithm, function) = try options.resolvedAlgorithm()
            var baseNodes = try options.explicitNodes()
            if let nodes {
                guard nodes >= 1 else { throw UsageError("--nodes \(nodes) is too low; give 1 or more") }
                guard baseNodes.isEmpty else { throw UsageError("give either --nodes N or --node/--nodes-file, not both") }
                baseNodes = (1...nodes).map {
                    HashNode("node-\($0)", id: algorithm == .haproxy ? $0 : nil)
                }
            }
            guard keys >= 1 else { throw UsageError("--keys \(keys) is too low; give 1 or more") }
            guard add == nil || remove == nil else { throw UsageError("give --add or --remove, not both") }

            var changedNodes = baseNodes
            var change: Change?
            if let add {
                var node = try NodeSpec.parse(add, origin: "--add")
                if algorithm == .haproxy && node.id == nil {
                    node.id = (baseNodes.compactMap(\.id).max() ?? 0) + 1
                }
                guard !baseNodes.contains(where: { $0.name == node.name }) else {
                    throw UsageError("--add '\(node.name)': a node of that name is already present")
                }
                changedNodes.append(node)
                change = .added(node.name)
            } else if let remove {
                guard baseNodes.contains(where: { $0.name == remove }) else {
                    throw UsageError("--remove '\(remove)': no such node; nodes are \(baseNodes.map(\.name).prefix(5).joined(separator: ", "))…")
                }
                changedNodes.removeAll { $0.name == remove }
                guard !changedNodes.isEmpty else { throw UsageError("--remove would leave no nodes") }
                change = .removed(remove)
            }

            let before = try options.make(algorithm, function, nodes: baseNodes)
            let after: any ConsistentHash
            switch (before, change) {
            case (var ring as HashRing, .added):
                // Exercise the incremental path: only the new node's points are hashed.
                try ring.add(changedNodes.last!)
                after = ring
            case (var ring as HashRing, .removed(let name)):
                try ring.remove(named: name)
                after = ring
            case (_, nil):
                after = before
            default:
                after = try options.make(algorithm, function, nodes: changedNodes)
            }

            let beforePlacement = try place(before)
            let afterPlacement = change == nil ? beforePlacement : try place(after)
            let report = Report(
                algorithm: algorithm,
                before: beforePlacement,
                after: afterPlacement,
                change: change
            )
            var output = OutputBuffer()
            output.append(json ? report.json() : report.table(parameters: describe(algorithm, function)))
            output.flush()
        }

        private func place(_ structure: some ConsistentHash) throws -> Placement {
            let assignment: [Int32]
            if let factor = options.bound {
                assignment = KeyPlacement.assign(try BoundedLoads(structure, factor: factor), keys: keys)
            } else {
                assignment = KeyPlacement.assign(structure, keys: keys)
            }
            let nodes = structure.nodes
            let indices = nodes.map { structure.index(ofNode: $0.name)! }
            let counts = KeyPlacement.counts(assignment, bound: (indices.max() ?? -1) + 1)
            return Placement(
                names: structure.namesByIndex(),
                assignment: assignment,
                distribution: KeyDistribution(nodes: nodes, keyCounts: indices.map { counts[$0] })
            )
        }

        private func describe(_ algorithm: HashAlgorithm, _ function: HashFunction?) -> String {
            var parts = ["algorithm \(algorithm)"]
            switch algorithm {
            case .ring:
                parts.append("hash \(function ?? .xxh64), \(options.vnodes ?? HashRing.defaultVirtualNodes) vnodes")
            case .rendezvous, .modulo: parts.append("hash \(function ?? .xxh64)")
            case .maglev: parts.append("table \(options.tableSize ?? MaglevTable.defaultTableSize)")
            default: break
            }
            if let bound = options.bound { parts.append("bound \(bound)") }
            parts.append("\(keys) keys")
            return parts.joined(separator: ", ")
        }
    }
}

enum Change {
    case added(String)
    case removed(String)
}

/// Where each key went on one structure.
struct Placement {
    /// Node names by index; nil for an index no member holds.
    var names: [String?]
    var assignment: [Int32]
    var distribution: KeyDistribution

    func name(ofKey k: Int) -> String? {
        let index = Int(assignment[k])
        return index >= 0 ? names[index] : nil
    }
}

extension ConsistentHash {
    /// Each member's name at its index, for printing lookups by index.
    func namesByIndex() -> [String?] {
        let nodes = self.nodes
        let indices = nodes.map { index(ofNode: $0.name)! }
        var names = [String?](repeating: nil, count: (indices.max() ?? -1) + 1)
        for (node, index) in zip(nodes, indices) { names[index] = node.name }
        return names
    }
}
