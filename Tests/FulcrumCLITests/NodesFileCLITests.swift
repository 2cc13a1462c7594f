import Foundation
import Testing

@Suite("ring lookup --nodes-file")
struct NodesFileCLITests {
    static let keyInput = Fulcrum.input(Fulcrum.keys(5_000))
    static let nodes = ["cache-a=2", "cache-b", "cache-c=3", "cache-d"]

    /// The nodes file for `nodes`, with comments, blank and whitespace-only lines.
    static func fileText(_ nodes: [String], newline: String, finalNewline: Bool = true) -> String {
        var lines = ["# cache tier, one node per line", ""]
        for (index, node) in nodes.enumerated() {
            lines.append(node)
            if index == 0 { lines += ["   ", "# a comment between nodes", "\t"] }
            if index == 1 { lines.append("  # an indented comment") }
        }
        lines += ["", "# end"]
        return lines.joined(separator: newline) + (finalNewline ? newline : "")
    }

    private func compareWithFlags(
        _ algorithm: String,
        nodes: [String],
        text: String,
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("nodes.txt", text)
        let fromFlags = try Fulcrum.run(Fulcrum.lookupArguments(algorithm, nodes), stdin: Self.keyInput)
        let fromFile = try Fulcrum.run(
            ["ring", "lookup", "--algorithm", algorithm, "--nodes-file", path],
            stdin: Self.keyInput
        )
        #expect(fromFlags.succeeded, "\(label): \(fromFlags.summary)", sourceLocation: sourceLocation)
        #expect(fromFile.succeeded, "\(label): \(fromFile.summary)", sourceLocation: sourceLocation)
        #expect(fromFlags.stdoutLines.count == 5_000, sourceLocation: sourceLocation)
        expectSameLines(fromFile.stdoutLines, fromFlags.stdoutLines, label, sourceLocation: sourceLocation)
    }

    @Test("LF file with comments and blank lines equals the --node flags", arguments: ["ring", "ketama"])
    func lfFile(algorithm: String) throws {
        try compareWithFlags(algorithm, nodes: Self.nodes, text: Self.fileText(Self.nodes, newline: "\n"), "\(algorithm) LF")
    }

    @Test("CRLF file equals the --node flags", arguments: ["ring", "maglev"])
    func crlfFile(algorithm: String) throws {
        try compareWithFlags(algorithm, nodes: Self.nodes, text: Self.fileText(Self.nodes, newline: "\r\n"), "\(algorithm) CRLF")
    }

    @Test("a last line without a newline is read", arguments: ["\n", "\r\n"])
    func noFinalNewline(newline: String) throws {
        let text = Self.nodes.joined(separator: newline)
        try compareWithFlags("ring", nodes: Self.nodes, text: text, "no final newline (\(newline.debugDescription))")
    }

    @Test("haproxy NAME=WEIGHT#ID lines, CRLF")
    func haproxyFile() throws {
        let servers = ["s1=1#1", "s2=2#2", "s3=1#3", "s4=3#7"]
        try compareWithFlags("haproxy", nodes: servers, text: Self.fileText(servers, newline: "\r\n"), "haproxy CRLF")
    }

    @Test("--node flags and --nodes-file combine")
    func flagsPlusFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("nodes.txt", "# two more\r\ncache-c=3\r\n\r\ncache-d\r\n")
        let combined = try Fulcrum.run(
            ["ring", "lookup", "--algorithm", "ring", "--node", "cache-a=2", "--node", "cache-b", "--nodes-file", path],
            stdin: Self.keyInput
        )
        let flags = try Fulcrum.run(Fulcrum.lookupArguments("ring", Self.nodes), stdin: Self.keyInput)
        #expect(combined.succeeded, "\(combined.summary)")
        expectSameLines(combined.stdoutLines, flags.stdoutLines, "flags + file")
    }

    @Test("weights in the file are honoured, not dropped")
    func fileWeightsHonoured() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let weighted = try directory.file("weighted.txt", Self.fileText(Self.nodes, newline: "\r\n"))
        let unweightedNodes = Self.nodes.map { String($0.prefix { $0 != "=" }) }
        let unweighted = try directory.file("unweighted.txt", Self.fileText(unweightedNodes, newline: "\r\n"))
        let a = try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", weighted], stdin: Self.keyInput)
        let b = try Fulcrum.run(["ring", "lookup", "--algorithm", "ring", "--nodes-file", unweighted], stdin: Self.keyInput)
        #expect(a.succeeded && b.succeeded, "\(a.summary) / \(b.summary)")
        let counts = tally(a.stdoutLines)
        #expect(Set(counts.keys) == Set(unweightedNodes))
        // cache-c has weight 3 of 7: about 43% of keys, against 25% unweighted.
        #expect(counts["cache-c", default: 0] > 1_750, "\(counts)")
        #expect(tally(b.stdoutLines)["cache-c", default: 0] < 1_500)
    }

    @Test("the file works for ring simulate too")
    func simulateFromFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("nodes.txt", Self.fileText(Self.nodes, newline: "\r\n"))
        let fromFile = try Fulcrum.run(["ring", "simulate", "--algorithm", "ring", "--nodes-file", path, "--keys", "5000", "--json"])
        let fromFlags = try Fulcrum.run(
            ["ring", "simulate", "--algorithm", "ring", "--keys", "5000", "--json"] + Fulcrum.nodeArguments(Self.nodes)
        )
        #expect(fromFile.succeeded, "\(fromFile.summary)")
        #expect(fromFile.stdout == fromFlags.stdout)
    }
}
