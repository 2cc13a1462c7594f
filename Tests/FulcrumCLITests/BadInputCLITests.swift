import Foundation
import Testing

/// Bad input: exit status 2, nothing on stdout, exactly one line on stderr
/// saying what is wrong (naming the offending value) and what is accepted.
func expectBadInput(
    _ result: CLIResult,
    mentions: [String],
    _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.exitedNormally && !result.timedOut, "\(label): \(result.summary)", sourceLocation: sourceLocation)
    #expect(result.status == 2, "\(label): \(result.summary)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(label): stdout was \(result.stdoutText.prefix(200).debugDescription)", sourceLocation: sourceLocation)
    let text = result.stderrText
    #expect(text.hasSuffix("\n"), "\(label): stderr \(text.prefix(300).debugDescription) does not end with a newline", sourceLocation: sourceLocation)
    let lines = result.stderrLines
    #expect(lines.count == 1, "\(label): stderr has \(lines.count) lines: \(text.prefix(600).debugDescription)", sourceLocation: sourceLocation)
    let line = lines.first ?? ""
    let message = line.hasPrefix("fulcrum:") ? String(line.dropFirst("fulcrum:".count)) : line
    #expect(!message.trimmingCharacters(in: .whitespaces).isEmpty, "\(label): empty message", sourceLocation: sourceLocation)
    for needle in mentions {
        #expect(line.contains(needle), "\(label): stderr \(line.debugDescription) does not mention \(needle.debugDescription)", sourceLocation: sourceLocation)
    }
}

@Suite("bad input: exit 2, one stderr line, empty stdout")
struct BadInputCLITests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var arguments: [String]
        var mentions: [String]
        var testDescription: String { label }
    }

    static let missingFile = "/nonexistent-fulcrum-cli-test-dir/nodes.txt"

    static let cases: [Case] = [
        Case(label: "unknown algorithm (lookup)", arguments: ["ring", "lookup", "--algorithm", "bogus", "--node", "a"], mentions: ["bogus", "ketama"]),
        Case(label: "unknown algorithm (simulate)", arguments: ["ring", "simulate", "--algorithm", "bogus", "--nodes", "3"], mentions: ["bogus", "maglev"]),
        Case(label: "unknown hash function (hash)", arguments: ["hash", "bogus", "abc"], mentions: ["bogus", "xxh64"]),
        Case(label: "unknown hash function (hash, stdin form)", arguments: ["hash", "sha999"], mentions: ["sha999", "md5"]),
        Case(label: "unknown hash function (lookup --hash)", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--hash", "bogus"], mentions: ["bogus", "murmur3_32"]),
        Case(label: "weight zero", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a=0", "--node", "b"], mentions: ["a=0"]),
        Case(label: "weight -1", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a=-1", "--node", "b"], mentions: ["a=-1"]),
        Case(label: "weight zero (maglev)", arguments: ["ring", "lookup", "--algorithm", "maglev", "--node", "b", "--node", "a=0"], mentions: ["a=0"]),
        Case(label: "weight zero (simulate --add)", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "3", "--add", "x=0"], mentions: ["x=0"]),
        Case(label: "non-numeric weight", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a=heavy"], mentions: ["heavy"]),
        Case(label: "fractional weight", arguments: ["ring", "lookup", "--algorithm", "ketama", "--node", "a=1.5"], mentions: ["1.5"]),
        Case(label: "empty weight", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a="], mentions: ["a="]),
        Case(label: "empty node name", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "=3"], mentions: ["=3"]),
        Case(label: "empty node list (lookup)", arguments: ["ring", "lookup", "--algorithm", "ring"], mentions: ["node"]),
        Case(label: "empty node list (simulate)", arguments: ["ring", "simulate", "--algorithm", "maglev"], mentions: ["node"]),
        Case(label: "duplicate node names", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "dup", "--node", "other", "--node", "dup"], mentions: ["dup"]),
        Case(label: "duplicate node names, different weights", arguments: ["ring", "lookup", "--algorithm", "nginx", "--node", "twin=1", "--node", "twin=2"], mentions: ["twin"]),
        Case(label: "duplicate node names (rendezvous)", arguments: ["ring", "lookup", "--algorithm", "rendezvous", "--node", "same", "--node", "same"], mentions: ["same"]),
        Case(label: "maglev table size not prime", arguments: ["ring", "lookup", "--algorithm", "maglev", "--node", "a", "--table-size", "65536"], mentions: ["65536", "prime"]),
        Case(label: "maglev table size not prime (simulate)", arguments: ["ring", "simulate", "--algorithm", "maglev", "--nodes", "3", "--table-size", "1000"], mentions: ["1000"]),
        Case(label: "maglev table smaller than the node count", arguments: ["ring", "lookup", "--algorithm", "maglev", "--node", "a", "--node", "b", "--node", "c", "--table-size", "2"], mentions: ["2"]),
        Case(label: "--hash with ketama", arguments: ["ring", "lookup", "--algorithm", "ketama", "--node", "a", "--hash", "xxh64"], mentions: ["--hash", "ketama"]),
        Case(label: "--hash with nginx", arguments: ["ring", "lookup", "--algorithm", "nginx", "--node", "a", "--hash", "crc32"], mentions: ["--hash", "nginx"]),
        Case(label: "--hash with haproxy", arguments: ["ring", "lookup", "--algorithm", "haproxy", "--node", "s1=1#1", "--hash", "xxh64"], mentions: ["--hash", "haproxy"]),
        Case(label: "--hash with jump", arguments: ["ring", "lookup", "--algorithm", "jump", "--node", "a", "--hash", "xxh64"], mentions: ["--hash", "jump"]),
        Case(label: "missing nodes file", arguments: ["ring", "lookup", "--algorithm", "ring", "--nodes-file", missingFile], mentions: [missingFile]),
        Case(label: "haproxy node without id", arguments: ["ring", "lookup", "--algorithm", "haproxy", "--node", "s1=1", "--node", "s2=1#2"], mentions: ["s1"]),
        Case(label: "haproxy node without weight or id", arguments: ["ring", "lookup", "--algorithm", "haproxy", "--node", "s2=1#2", "--node", "lonely"], mentions: ["lonely"]),
        Case(label: "haproxy id not a number", arguments: ["ring", "lookup", "--algorithm", "haproxy", "--node", "s1=1#first"], mentions: ["first"]),
        Case(label: "haproxy duplicate ids", arguments: ["ring", "lookup", "--algorithm", "haproxy", "--node", "s1=1#4", "--node", "s2=1#4"], mentions: ["4"]),
        Case(label: "--vnodes 0", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--vnodes", "0"], mentions: ["0"]),
        Case(label: "--vnodes with ketama", arguments: ["ring", "lookup", "--algorithm", "ketama", "--node", "a", "--vnodes", "100"], mentions: ["--vnodes", "ketama"]),
        Case(label: "--table-size with ring", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--table-size", "5003"], mentions: ["--table-size", "ring"]),
        Case(label: "--bound below 1", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--bound", "0.5"], mentions: ["0.5"]),
        Case(label: "--bound with rendezvous", arguments: ["ring", "lookup", "--algorithm", "rendezvous", "--node", "a", "--bound", "1.25"], mentions: ["--bound", "rendezvous"]),
        Case(label: "jump with a weight", arguments: ["ring", "lookup", "--algorithm", "jump", "--node", "a", "--node", "b=2"], mentions: ["b", "2"]),
        Case(label: "simulate --nodes 0", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "0"], mentions: ["0"]),
        Case(label: "simulate --keys 0", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "3", "--keys", "0"], mentions: ["0"]),
        Case(label: "simulate --remove of an unknown node", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "3", "--remove", "ghost"], mentions: ["ghost"]),
        Case(label: "simulate --add of a present node", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "3", "--add", "node-2"], mentions: ["node-2"]),
        Case(label: "simulate --nodes with --node", arguments: ["ring", "simulate", "--algorithm", "ring", "--nodes", "3", "--node", "x"], mentions: ["--nodes"]),
        Case(label: "unknown option", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--bogus-flag"], mentions: ["--bogus-flag"]),
        Case(label: "missing --algorithm", arguments: ["ring", "lookup", "--node", "a"], mentions: ["--algorithm"]),
        Case(label: "non-numeric --vnodes", arguments: ["ring", "lookup", "--algorithm", "ring", "--node", "a", "--vnodes", "many"], mentions: ["many"]),
    ]

    @Test("bad input is rejected cleanly", arguments: cases)
    func rejected(_ badCase: Case) throws {
        // Keys on stdin, so a command that wrongly goes ahead would print something.
        let result = try Fulcrum.run(badCase.arguments, lines: Fulcrum.keys(100))
        expectBadInput(result, mentions: badCase.mentions, badCase.label)
    }

    @Test("bad lines in a nodes file name the file and line")
    func badNodesFileLines() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let zero = try directory.file("zero.txt", "# nodes\r\na=2\r\nb=0\r\n")
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", zero], lines: ["k"]),
            mentions: ["zero.txt:3", "b=0"],
            "weight 0 in a file"
        )
        let words = try directory.file("words.txt", "a=2\nb=lots\n")
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", words], lines: ["k"]),
            mentions: ["words.txt:2", "lots"],
            "non-numeric weight in a file"
        )
        let onlyComments = try directory.file("empty.txt", "# nothing here\n\n   \n")
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", onlyComments], lines: ["k"]),
            mentions: ["node"],
            "a nodes file with no nodes"
        )
        let duplicate = try directory.file("dup.txt", "a\nb\n")
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--node", "b", "--nodes-file", duplicate], lines: ["k"]),
            mentions: ["b"],
            "a name in both --node and the file"
        )
    }

    /// A nodes file that cannot be read must be an error, not an empty list:
    /// otherwise `--node a --nodes-file DIR` silently runs with node a only.
    @Test("a directory given as the nodes file is an error naming it")
    func nodesFileIsDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url.path
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", path], lines: ["k"]),
            mentions: [path],
            "a directory as the only nodes source"
        )
        expectBadInput(
            try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--node", "a", "--nodes-file", path], lines: ["k"]),
            mentions: [path],
            "a directory as the nodes file next to --node"
        )
    }
}

/// Weights too large to honour must be rejected like any other bad weight
/// (or handled), not crash the process: scripts rely on exit status 2 and one
/// line on stderr. These currently FAIL: see the report.
@Suite("bad input: absurdly large weights")
struct LargeWeightCLITests {
    static let huge = String(Int.max)  // 9223372036854775807

    @Test(
        "a weight of Int.max is rejected with exit 2 (or looked up), never a crash",
        arguments: ["ring", "ketama", "nginx", "maglev", "rendezvous", "modulo", "haproxy"]
    )
    func hugeWeightLookup(algorithm: String) throws {
        let nodes = algorithm == "haproxy" ? ["big=\(Self.huge)#1", "small=1#2"] : ["big=\(Self.huge)", "small"]
        let result = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, nodes), lines: ["key-1"], timeout: 60)
        #expect(
            result.exitedNormally && (result.status == 0 || result.status == 2),
            "\(algorithm) did not exit with 0 or 2: \(result.summary)"
        )
        if result.exitedNormally && result.status == 2 {
            expectBadInput(result, mentions: [Self.huge], "\(algorithm) weight Int.max")
        } else if result.exitedNormally && result.status == 0 {
            #expect(result.stdoutLines.count == 1 && ["big", "small"].contains(result.stdoutLines[0]))
        }
    }

    @Test("simulate with weights whose sum overflows is rejected, never a crash")
    func hugeWeightSumSimulate() throws {
        let half = String(Int.max / 2 + 1)  // two of these sum past Int.max
        let result = try Fulcrum.run(
            ["ring", "simulate", "--algorithm", "rendezvous", "--node", "a=\(half)", "--node", "b=\(half)", "--keys", "100"],
            timeout: 60
        )
        #expect(
            result.exitedNormally && (result.status == 0 || result.status == 2),
            "did not exit with 0 or 2: \(result.summary)"
        )
        if result.exitedNormally && result.status == 2 {
            expectBadInput(result, mentions: [half], "weights summing past Int.max")
        }
    }
}
