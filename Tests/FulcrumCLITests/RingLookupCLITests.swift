import Foundation
import Testing

/// `fulcrum ring lookup` against the assignments real third-party
/// implementations produced for `key-0` … `key-9999`.
@Suite("ring lookup: reference vectors, end to end")
struct LookupVectorCLITests {
    static let keys = Fulcrum.keys(10_000)
    static let keyInput = Fulcrum.input(keys)

    /// Runs `arguments` on the 10,000 vector keys and compares every line.
    private func expectAssignment(
        _ arguments: [String],
        _ expected: [String],
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(expected.count == Self.keys.count, "\(label): the vector has \(expected.count) entries", sourceLocation: sourceLocation)
        let result = try Fulcrum.run(arguments, stdin: Self.keyInput)
        #expect(result.succeeded, "\(label): \(result.summary)", sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, "\(label): unexpected stderr \(result.stderrText.debugDescription)", sourceLocation: sourceLocation)
        expectSameLines(result.stdoutLines, expected, label, sourceLocation: sourceLocation)
    }

    @Test("ketama matches libketama / uhashring for every set and variant")
    func ketama() throws {
        let file = try CLIVectors.decode(KetamaVectors.self, "ketama.json")
        #expect(!file.sets.isEmpty)
        var checked = 0
        for (setName, set) in file.sets.sorted(by: { $0.key < $1.key }) {
            #expect(Set(set.variants.keys).isSuperset(of: ["base", "after_remove", "after_add"]), "\(setName)")
            for (variantName, variant) in set.variants.sorted(by: { $0.key < $1.key }) {
                let nodes = variant.nodes.map { "\($0.name)=\($0.weight)" }
                try expectAssignment(
                    Fulcrum.lookupArguments("ketama", nodes),
                    variant.assignment,
                    "ketama \(setName)/\(variantName)"
                )
                checked += 1
            }
        }
        #expect(checked >= 3)
    }

    @Test("nginx matches a real nginx for base, after_remove and after_add")
    func nginx() throws {
        let file = try CLIVectors.decode(NginxVectors.self, "nginx_chash.json")
        #expect(!file.sets.isEmpty)
        for (setName, set) in file.sets.sorted(by: { $0.key < $1.key }) {
            for (variantName, variant) in [("base", set.base), ("after_remove", set.afterRemove), ("after_add", set.afterAdd)] {
                let nodes = variant.nodes.map { "\($0.name)=\($0.weight)" }
                try expectAssignment(
                    Fulcrum.lookupArguments("nginx", nodes),
                    variant.assignment,
                    "nginx \(setName)/\(variantName)"
                )
            }
        }
    }

    @Test("haproxy matches a real HAProxy for base, after_remove and after_add")
    func haproxy() throws {
        let file = try CLIVectors.decode(HAProxyVectors.self, "haproxy_chash.json")
        #expect(!file.sets.isEmpty)
        for (setName, set) in file.sets.sorted(by: { $0.key < $1.key }) {
            for (variantName, variant) in [("base", set.base), ("after_remove", set.afterRemove), ("after_add", set.afterAdd)] {
                try expectAssignment(
                    Fulcrum.lookupArguments("haproxy", variant.servers.map(\.spec)),
                    variant.assignment,
                    "haproxy \(setName)/\(variantName)"
                )
            }
        }
    }

    @Test("rendezvous --hash murmur3_32 matches pymemcache for base, after_remove and after_add")
    func rendezvous() throws {
        let file = try CLIVectors.decode(RendezvousVectors.self, "rendezvous_pymemcache.json")
        #expect(!file.sets.isEmpty)
        let hash = ["--hash", "murmur3_32"]
        for (setName, set) in file.sets.sorted(by: { $0.key < $1.key }) {
            try expectAssignment(
                Fulcrum.lookupArguments("rendezvous", set.nodes, hash),
                set.base,
                "rendezvous \(setName)/base"
            )
            #expect(set.nodes.contains(set.afterRemove.removed))
            try expectAssignment(
                Fulcrum.lookupArguments("rendezvous", set.nodes.filter { $0 != set.afterRemove.removed }, hash),
                set.afterRemove.assignment,
                "rendezvous \(setName)/after_remove"
            )
            #expect(!set.nodes.contains(set.afterAdd.added))
            try expectAssignment(
                Fulcrum.lookupArguments("rendezvous", set.nodes + [set.afterAdd.added], hash),
                set.afterAdd.assignment,
                "rendezvous \(setName)/after_add"
            )
        }
    }
}

/// Jump hash through the CLI: string keys become 64-bit keys through xxh64.
@Suite("ring lookup: jump")
struct JumpLookupCLITests {
    static let nodes = (1...10).map { "node-\($0)" }
    static let keys = Fulcrum.keys(10_000)

    /// Lamping & Veach 2014, Figure 1, written out here independently of the library.
    static func referenceBucket(_ key: UInt64, _ buckets: Int) -> Int {
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }

    @Test("the test's own jump reference agrees with jump.json")
    func referenceAgreesWithVectors() throws {
        let file = try CLIVectors.decode(JumpVectors.self, "jump.json")
        #expect(!file.sequentialKeys.numBuckets.isEmpty)
        for buckets in file.sequentialKeys.numBuckets {
            let expected = try #require(file.sequentialKeys.values[String(buckets)])
            let actual = (0..<UInt64(expected.count)).map { Self.referenceBucket($0, buckets) }
            #expect(actual == expected, "bucket count \(buckets)")
        }
    }

    @Test("lookup gives node[jump(xxh64(key), 10)], with xxh64 taken from `fulcrum hash xxh64`")
    func lookupIsJumpOfXXH64() throws {
        let hashes = try Fulcrum.run(["hash", "xxh64"], lines: Self.keys)
        try #require(hashes.succeeded, "\(hashes.summary)")
        let digests = hashes.stdoutLines
        try #require(digests.count == Self.keys.count)
        // The argument form agrees with the stdin form.
        let spot = try Fulcrum.run(["hash", "xxh64", "key-0", "key-1", "key-9999"])
        #expect(spot.stdoutLines == [digests[0], digests[1], digests[9999]])

        let expected = try digests.map { hex -> String in
            let key = try #require(UInt64(hex, radix: 16), "not a 64-bit hex digest: \(hex)")
            #expect(hex.count == 16)
            return Self.nodes[Self.referenceBucket(key, Self.nodes.count)]
        }
        let lookup = try Fulcrum.run(Fulcrum.lookupArguments("jump", Self.nodes), lines: Self.keys)
        #expect(lookup.succeeded, "\(lookup.summary)")
        expectSameLines(lookup.stdoutLines, expected, "jump over 10 nodes")
    }

    @Test("all 10 nodes get a fair share of 10,000 keys")
    func allNodesAppear() throws {
        let lookup = try Fulcrum.run(Fulcrum.lookupArguments("jump", Self.nodes), lines: Self.keys)
        #expect(lookup.succeeded, "\(lookup.summary)")
        let counts = tally(lookup.stdoutLines)
        #expect(Set(counts.keys) == Set(Self.nodes))
        #expect(counts.values.reduce(0, +) == Self.keys.count)
        for (node, count) in counts {
            #expect((800...1200).contains(count), "\(node) has \(count) of 10,000 keys")
        }
    }

    @Test("appending an 11th node moves keys only to it, about 1/11 of them")
    func appendingMovesOnlyToNewNode() throws {
        let before = try Fulcrum.run(Fulcrum.lookupArguments("jump", Self.nodes), lines: Self.keys)
        let after = try Fulcrum.run(Fulcrum.lookupArguments("jump", Self.nodes + ["node-11"]), lines: Self.keys)
        #expect(before.succeeded && after.succeeded, "\(before.summary) / \(after.summary)")
        try #require(before.stdoutLines.count == Self.keys.count && after.stdoutLines.count == Self.keys.count)
        var moved = 0
        var movedElsewhere: [String] = []
        for (index, (old, new)) in zip(before.stdoutLines, after.stdoutLines).enumerated() where old != new {
            moved += 1
            if new != "node-11" { movedElsewhere.append("key-\(index): \(old) → \(new)") }
        }
        #expect(movedElsewhere.isEmpty, "keys moved between old nodes: \(movedElsewhere.prefix(5))")
        #expect(moved == tally(after.stdoutLines)["node-11", default: 0])
        let fraction = Double(moved) / Double(Self.keys.count)
        #expect(fraction > 0.07 && fraction < 0.115, "moved \(fraction), expected about 1/11")
    }
}

/// How `ring lookup` reads standard input.
@Suite("ring lookup: input handling")
struct LookupInputCLITests {
    static let nodes = ["a", "b", "c", "d"]

    @Test("CRLF keys give the same nodes as LF keys", arguments: ["ketama", "rendezvous"])
    func crlfKeys(algorithm: String) throws {
        let keys = Fulcrum.keys(2_000)
        let lf = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, Self.nodes), lines: keys)
        let crlf = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, Self.nodes), lines: keys, terminator: "\r\n")
        #expect(lf.succeeded && crlf.succeeded, "\(lf.summary) / \(crlf.summary)")
        #expect(lf.stdoutLines.count == keys.count)
        #expect(crlf.stdout == lf.stdout)
    }

    @Test("a last key without a newline is still looked up")
    func lastLineWithoutNewline() throws {
        let keys = Fulcrum.keys(500)
        let full = try Fulcrum.run(Fulcrum.lookupArguments("ring", Self.nodes), lines: keys)
        var input = Fulcrum.input(keys)
        input.removeLast()  // the final "\n"
        let partial = try Fulcrum.run(Fulcrum.lookupArguments("ring", Self.nodes), stdin: input)
        #expect(partial.succeeded, "\(partial.summary)")
        #expect(partial.stdoutLines.count == 500)
        #expect(partial.stdout == full.stdout)
    }

    @Test("empty standard input prints nothing and succeeds")
    func emptyInput() throws {
        let result = try Fulcrum.run(Fulcrum.lookupArguments("maglev", Self.nodes))
        #expect(result.succeeded, "\(result.summary)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty)
    }

    @Test("output is in input order: each key's line does not depend on its neighbours")
    func orderPreserved() throws {
        let keys = Fulcrum.keys(3_000)
        let forward = try Fulcrum.run(Fulcrum.lookupArguments("ring", Self.nodes), lines: keys)
        let backward = try Fulcrum.run(Fulcrum.lookupArguments("ring", Self.nodes), lines: keys.reversed())
        #expect(forward.succeeded && backward.succeeded)
        #expect(Array(backward.stdoutLines.reversed()) == forward.stdoutLines)
        #expect(Set(forward.stdoutLines) == Set(Self.nodes))
    }
}
