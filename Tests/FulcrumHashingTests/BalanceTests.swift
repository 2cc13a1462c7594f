import FulcrumHashing
import Testing

/// How evenly keys spread: peak-to-mean over 10 nodes and 1,000,000 keys.
@Suite("Balance")
struct BalanceTests {
    static let keys = 1_000_000

    @Test(
        "ring at its defaults stays within 1.10 peak-to-mean at 10 nodes, whatever the naming",
        arguments: ["node-", "10.0.0.", "cache", "redis-"]
    )
    func ringBalance(_ prefix: String) throws {
        let nodes = (1...10).map { HashNode(prefix == "10.0.0." ? "10.0.0.\($0):11211" : "\(prefix)\($0)") }
        let peak = Placement.distribution(try HashRing(nodes: nodes), keys: Self.keys).peakToMean
        #expect(peak <= 1.10, "ring peak-to-mean \(peak) with names \(prefix)…")
    }

    @Test("maglev, jump and rendezvous stay within 1.03 at 10 nodes", arguments: [HashAlgorithm.maglev, .jump, .rendezvous])
    func tightBalance(_ algorithm: HashAlgorithm) throws {
        let peak = Placement.distribution(try algorithm.make(nodes: Placement.nodes(10)), keys: Self.keys).peakToMean
        #expect(peak <= 1.03, "\(algorithm) peak-to-mean \(peak)")
    }

    /// ketama and nginx are left out: their point counts are fixed by the
    /// products they reproduce (160 per node), whose ±8% per-node spread is
    /// part of what compatibility means.
    @Test(
        "A node with twice the weight gets twice the share, within 5%",
        arguments: [HashAlgorithm.ring, .maglev, .rendezvous, .modulo]
    )
    func doubleWeight(_ algorithm: HashAlgorithm) throws {
        var nodes = Placement.nodes(10)
        nodes[0].weight = 2
        let distribution = Placement.distribution(try algorithm.make(nodes: nodes), keys: 200_000)
        let heavy = distribution.entries.first { $0.name == "node-1" }!.share
        let others = distribution.entries.filter { $0.name != "node-1" }
        let light = others.map(\.share).reduce(0, +) / Double(others.count)
        let ratio = heavy / light
        #expect(abs(ratio - 2) <= 0.1, "\(algorithm): weight-2 node got \(ratio)× a weight-1 node's share")
    }

    @Test("Maglev fills the table in proportion to weight")
    func maglevSlots() throws {
        let table = try MaglevTable(nodes: [HashNode("a", weight: 1), HashNode("b", weight: 3)], tableSize: 65537)
        let counts = table.slotCounts
        #expect(counts.reduce(0, +) == 65537)
        #expect(abs(Double(counts[1]) / Double(counts[0]) - 3) < 0.01)
    }
}
