import FulcrumCore
import Testing

@Suite("IP networks (trusted PROXY protocol sources)")
struct IPNetworkTests {
    static func network(_ text: String) -> IPNetwork? {
        if case .success(let network) = IPNetwork.parse(text) { return network }
        return nil
    }

    @Test(
        "Membership",
        arguments: [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("2001:db8::/64", "2001:db8::ffff:1", true),
            ("2001:db8::/65", "2001:db8:0:0:8000::1", false),
            ("::/0", "10.0.0.1", false),
        ]
    )
    func contains(network: String, address: String, expected: Bool) throws {
        let parsed = try #require(Self.network(network))
        let client = try #require(ClientAddress(text: address))
        #expect(parsed.contains(client) == expected)
    }

    @Test("Host bits, bad prefixes and non-addresses are refused")
    func refusals() {
        #expect(IPNetwork.parse("10.0.0.1/8") == .failure(.hostBitsSet(suggestion: "10.0.0.0/8")))
        #expect(IPNetwork.parse("10.0.0.0/33") == .failure(.badPrefix))
        #expect(IPNetwork.parse("10.0.0.0/08") == .failure(.badPrefix))
        #expect(IPNetwork.parse("10.0.0.0/") == .failure(.badPrefix))
        #expect(IPNetwork.parse("lb.internal/32") == .failure(.notAnAddress))
        #expect(IPNetwork.parse("010.0.0.0/8") == .failure(.notAnAddress))
    }
}
