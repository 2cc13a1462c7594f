import ArgumentParser
import FulcrumHashing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options that choose and configure a consistent-hashing structure,
/// shared by `ring lookup` and `ring simulate`.
struct HashingOptions: ParsableArguments {
    @Option(help: "The algorithm: \(HashAlgorithm.acceptedNames).")
    var algorithm: String

    @Option(
        name: .customLong("node"),
        help: ArgumentHelp("A node, NAME[=WEIGHT] (haproxy: NAME=WEIGHT#ID). Repeat for each.", valueName: "node")
    )
    var nodeSpecs: [String] = []

    @Option(help: "A file with one node per line, NAME[=WEIGHT]; blank lines and lines starting with # are skipped.")
    var nodesFile: String?

    @Option(help: "The hash function for ring, rendezvous and modulo: \(HashFunction.acceptedNames).")
    var hash: String?

    @Option(help: "Points per unit of weight for ring (default \(HashRing.defaultVirtualNodes)).")
    var vnodes: Int?

    @Option(help: "The maglev table size; must be prime (default \(MaglevTable.defaultTableSize)).")
    var tableSize: Int?

    @Option(help: "Bound each node's load to ⌈C × average⌉ (consistent hashing with bounded loads), e.g. 1.25.")
    var bound: Double?

    /// The parsed algorithm and hash function, checked against each other.
    func resolvedAlgorithm() throws -> (HashAlgorithm, HashFunction?) {
        guard let algorithm = HashAlgorithm(rawValue: algorithm) else {
            throw UsageError("unknown algorithm '\(algorithm)'; accepted: \(HashAlgorithm.acceptedNames)")
        }
        var function: HashFunction?
        if let hash {
            guard let parsed = HashFunction(rawValue: hash) else {
                throw UsageError("unknown hash function '\(hash)'; accepted: \(HashFunction.acceptedNames)")
            }
            guard algorithm.takesHashFunction else {
                throw UsageError(
                    "--hash applies to ring, rendezvous and modulo; \(algorithm) always uses the hash its "
                        + "reference implementation fixes"
                )
            }
            function = parsed
        }
        if vnodes != nil && algorithm != .ring {
            throw UsageError("--vnodes applies to ring only, not to \(algorithm)")
        }
        if tableSize != nil && algorithm != .maglev {
            throw UsageError("--table-size applies to maglev only, not to \(algorithm)")
        }
        if bound != nil && [.jump, .rendezvous, .modulo].contains(algorithm) {
            throw UsageError("--bound applies to ring, ketama, nginx, maglev and haproxy, not to \(algorithm)")
        }
        return (algorithm, function)
    }

    /// The nodes from `--node` and `--nodes-file`, in the order given.
    func explicitNodes() throws -> [HashNode] {
        var nodes = try nodeSpecs.map { try NodeSpec.parse($0, origin: "--node") }
        if let nodesFile {
            nodes += try NodeSpec.parseFile(nodesFile)
        }
        return nodes
    }

    /// Builds the structure, turning library errors into one-line usage errors.
    func make(_ algorithm: HashAlgorithm, _ function: HashFunction?, nodes: [HashNode]) throws -> any ConsistentHash {
        guard !nodes.isEmpty else {
            throw UsageError("no nodes given; add --node NAME[=WEIGHT] (repeatable) or --nodes-file FILE")
        }
        do {
            return try algorithm.make(nodes: nodes, hashFunction: function, virtualNodes: vnodes, tableSize: tableSize)
        } catch {
            throw UsageError(error.message)
        }
    }
}

/// Parses `NAME[=WEIGHT][#ID]`.
enum NodeSpec {
    static func parse(_ spec: String, origin: String) throws -> HashNode {
        guard let equals = spec.lastIndex(of: "=") else {
            guard !spec.isEmpty else { throw UsageError("\(origin): empty node name; write NAME[=WEIGHT]") }
            return HashNode(spec)
        }
        let name = String(spec[..<equals])
        var rest = spec[spec.index(after: equals)...]
        var id: Int?
        if let hash = rest.firstIndex(of: "#") {
            let idText = rest[rest.index(after: hash)...]
            guard let parsed = Int(idText), parsed >= 1 else {
                throw UsageError("\(origin) '\(spec)': id '\(idText)' is not a whole number of 1 or more; write NAME=WEIGHT#ID")
            }
            id = parsed
            rest = rest[..<hash]
        }
        guard !name.isEmpty else { throw UsageError("\(origin) '\(spec)': empty node name; write NAME[=WEIGHT]") }
        guard let weight = Int(rest) else {
            throw UsageError("\(origin) '\(spec)': weight '\(rest)' is not a whole number; write NAME=WEIGHT with WEIGHT 1 or more")
        }
        guard weight >= 1 else {
            throw UsageError("\(origin) '\(spec)': weight \(weight) is too low; weights must be 1 or more")
        }
        guard weight <= HashNode.maxWeight else {
            throw UsageError("\(origin) '\(spec)': weight \(weight) is too high; weights must be at most \(HashNode.maxWeight)")
        }
        return HashNode(name, weight: weight, id: id)
    }

    static func parseFile(_ path: String) throws -> [HashNode] {
        guard let file = fopen(path, "r") else {
            throw UsageError("cannot open nodes file '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var nodes: [HashNode] = []
        var lineNumber = 0
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) >= 0 {
            lineNumber += 1
            let text = String(cString: line!).trimmingWhitespace()
            if text.isEmpty || text.hasPrefix("#") { continue }
            nodes.append(try parse(text, origin: "\(path):\(lineNumber)"))
        }
        if ferror(file) != 0 {
            throw UsageError("cannot read nodes file '\(path)': \(String(cString: strerror(errno)))")
        }
        return nodes
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
