import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Testing

@Suite("Routing: weighted splits")
struct RoutingSplitTests {
    static func router(splitKey: String? = nil, weights: (Int, Int) = (90, 10)) throws -> Router {
        var routes = """
              - name: canary-split
                split: [ { cluster: stable, weight: \(weights.0) }, { cluster: canary, weight: \(weights.1) } ]
            """
        if let splitKey { routes += "\n    split_key: \"\(splitKey)\"" }
        return try makeRouter(routes)
    }

    /// The share of `requests` that went to `canary`.
    static func canaryShare(_ router: Router, _ requests: some Sequence<RouteRequest>, seed: UInt64 = 7) -> Double {
        var random = FastRandom(seed: seed)
        var total = 0
        var canary = 0
        for request in requests {
            total += 1
            if case .cluster("canary", route: "canary-split") = router.route(request, random: &random) { canary += 1 }
        }
        return Double(canary) / Double(total)
    }

    @Test("a random split holds its ratio", arguments: [(90, 10), (50, 50), (1, 3)])
    func randomRatio(weights: (Int, Int)) throws {
        let router = try Self.router(weights: weights)
        let share = Self.canaryShare(router, repeatElement(RouteRequest(path: "/"), count: 100_000))
        let expected = Double(weights.1) / Double(weights.0 + weights.1)
        #expect(abs(share - expected) < 0.01, "canary share \(share), expected \(expected)")
    }

    @Test("an arm of weight 0 gets nothing")
    func zeroWeight() throws {
        let router = try makeRouter(
            """
              - split: [ { cluster: a, weight: 0 }, { cluster: b, weight: 1 }, { cluster: c, weight: 0 } ]
            """
        )
        var random = FastRandom(seed: 3)
        for _ in 0..<10_000 {
            #expect(router.route(RouteRequest(path: "/"), random: &random) == .cluster("b", route: nil))
        }
    }

    @Test(
        "a sticky split holds 90/10 over 100,000 distinct keys",
        arguments: ["header:X-User", "cookie:sid", "query:user", "ip", "path"]
    )
    func stickyRatio(key: String) throws {
        let router = try Self.router(splitKey: key)
        let requests = (0..<100_000).lazy.map { Self.request(key: key, value: $0) }
        let share = Self.canaryShare(router, requests)
        #expect(abs(share - 0.1) < 0.01, "canary share \(share) for \(key)")
    }

    @Test("a sticky split sends each client to the same side, whatever the random state")
    func stickyStability() throws {
        let router = try Self.router(splitKey: "cookie:sid")
        var first = FastRandom(seed: 1)
        var second = FastRandom(seed: 99)
        var sides: Set<String> = []
        for value in 0..<5_000 {
            let request = Self.request(key: "cookie:sid", value: value)
            let a = router.route(request, random: &first)
            let b = router.route(request, random: &second)
            let again = router.route(request, random: &first)
            #expect(a == b)
            #expect(a == again)
            if case .cluster(let name, _) = a { sides.insert(name) }
        }
        #expect(sides == ["stable", "canary"])
    }

    @Test("a rebuilt router (a reload) keeps every client's side")
    func stickyAcrossReload() throws {
        let one = try Self.router(splitKey: "header:X-User")
        let two = try Self.router(splitKey: "header:X-User")
        for value in 0..<2_000 {
            let request = Self.request(key: "header:X-User", value: value)
            #expect(one.decide(request) == two.decide(request))
        }
    }

    @Test("without the key's value the split falls back to random, in ratio")
    func stickyFallback() throws {
        let router = try Self.router(splitKey: "header:X-User")
        let missing = Self.canaryShare(router, repeatElement(RouteRequest(path: "/"), count: 100_000))
        #expect(abs(missing - 0.1) < 0.01)
        let empty = Self.canaryShare(
            router,
            repeatElement(RouteRequest(path: "/", headers: [("X-User", "")]), count: 100_000)
        )
        #expect(abs(empty - 0.1) < 0.01)
    }

    @Test("a random split varies with the generator; a route without split never draws")
    func randomUsesGenerator() throws {
        let router = try Self.router(weights: (50, 50))
        var random = FastRandom(seed: 5)
        let decisions = Set((0..<100).map { _ in router.route(RouteRequest(path: "/"), random: &random) })
        #expect(decisions.count == 2)

        let plain = try makeRouter(
            """
              - cluster: a
            """
        )
        var untouched = FastRandom(seed: 5)
        _ = plain.route(RouteRequest(path: "/"), random: &untouched)
        var reference = FastRandom(seed: 5)
        #expect(untouched.next() == reference.next())
    }

    /// A request whose `key` has a value derived from `value`.
    static func request(key: String, value: Int) -> RouteRequest {
        let text = "client-\(value)"
        switch key {
        case "header:X-User": return RouteRequest(path: "/", headers: [("x-user", text)])
        case "cookie:sid": return RouteRequest(path: "/", headers: [("Cookie", "theme=dark; sid=\(text)")])
        case "query:user": return RouteRequest(path: "/", query: "a=1&user=\(text)")
        case "ip":
            return RouteRequest(path: "/", clientAddress: ClientAddress(ipv4: 0x0A00_0000 | UInt32(value)))
        case "path": return RouteRequest(path: "/users/\(text)")
        default: fatalError("unknown key \(key)")
        }
    }
}
