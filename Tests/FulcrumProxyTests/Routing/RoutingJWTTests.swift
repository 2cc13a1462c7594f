import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Testing

@Suite("Routing: JWT claims")
struct RoutingJWTTests {
    static let routes = """
          - name: acme
            match: { jwt: { claim: tenant, exact: acme } }
            cluster: a
          - name: tier-2
            match: { jwt: { claim: tier, exact: "2" } }
            cluster: b
          - name: anonymous
            match: { jwt: { claim: tenant, present: false } }
            cluster: c
        """

    @Test("a string claim matches exactly")
    func stringClaim() throws {
        let router = try makeRouter(Self.routes, defaultCluster: "fallback")
        let acme = jwt(payload: #"{"sub":"u1","tenant":"acme","iat":1700000000}"#)
        #expect(router.decide(RouteRequest(path: "/", headers: bearer(acme))) == .cluster("a", route: "acme"))
        let other = jwt(payload: #"{"tenant":"acme-2","tier":3}"#)
        #expect(router.cluster("/", headers: bearer(other)) == "fallback")
    }

    @Test("a number claim compares as written")
    func numberClaim() throws {
        let router = try makeRouter(Self.routes, defaultCluster: "fallback")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"tenant":"x","tier":2}"#))) == "b")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"tenant":"x","tier":2.0}"#))) == "fallback")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"tenant":"x","tier":"2"}"#))) == "b")
    }

    @Test("a missing claim, a null claim or no token at all is absent")
    func missingClaim() throws {
        let router = try makeRouter(Self.routes, defaultCluster: "fallback")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"sub":"u1"}"#))) == "c")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"tenant":null}"#))) == "c")
        #expect(router.cluster("/") == "c")
        #expect(router.cluster("/", headers: [("Authorization", "Basic dXNlcjpwYXNz")]) == "c")
    }

    @Test(
        "a garbage token never matches, not even present: false, and never crashes",
        arguments: [
            "Bearer",
            "Bearer ",
            "Bearer abc",
            "Bearer a.b",
            "Bearer a.b.c.d",
            "Bearer ..",
            "Bearer !!!.###.$$$",
            "Bearer " + base64URL("{}") + "." + base64URL("not json") + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"acme""#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"acme"} x"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"["acme"]"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"acme","tenant":"acme"}"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":'acme'}"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"acme",}"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tier":01}"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"\ud800"}"#) + ".sig",
            "Bearer " + base64URL("not json") + "." + base64URL(#"{"tenant":"acme"}"#) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(#"{"tenant":"acme"}"#) + "=.sig",
            "Bearer " + base64URL("{}") + "." + String(repeating: "A", count: 20_000) + ".sig",
            "Bearer " + base64URL("{}") + "." + base64URL(String(repeating: "[", count: 100_000)) + ".sig",
        ]
    )
    func garbage(value: String) throws {
        let router = try makeRouter(Self.routes, defaultCluster: "fallback")
        #expect(router.cluster("/", headers: [("Authorization", value)]) == "fallback")
    }

    @Test("the scheme is case-insensitive; extra spaces are allowed")
    func scheme() throws {
        let router = try makeRouter(Self.routes)
        let token = jwt(payload: #"{"tenant":"acme"}"#)
        #expect(router.cluster("/", headers: [("authorization", "bearer \(token)")]) == "a")
        #expect(router.cluster("/", headers: [("Authorization", "BEARER   \(token)  ")]) == "a")
    }

    @Test("claims in a custom header, with prefix, regex and present")
    func customHeaderAndConditions() throws {
        let router = try makeRouter(
            """
              - match: { jwt: { claim: email, regex: "@example\\\\.com$", header: X-Token } }
                cluster: a
              - match: { jwt: { claim: email, prefix: "ops-", header: X-Token } }
                cluster: b
              - match: { jwt: { claim: roles, present: true, header: X-Token } }
                cluster: c
            """
        )
        func token(_ payload: String) -> [(name: String, value: String)] {
            [("X-Token", "Bearer " + jwt(payload: payload))]
        }
        #expect(router.cluster("/", headers: token(#"{"email":"kim@example.com"}"#)) == "a")
        #expect(router.cluster("/", headers: token(#"{"email":"kim@example.com.evil"}"#)) == nil)
        #expect(router.cluster("/", headers: token(#"{"email":"ops-kim@corp.net"}"#)) == "b")
        #expect(router.cluster("/", headers: token(#"{"roles":["admin"],"email":"x"}"#)) == "c")
        #expect(router.cluster("/", headers: bearer(jwt(payload: #"{"email":"kim@example.com"}"#))) == nil)
    }

    @Test("claims with escapes, unicode, booleans and nesting")
    func claimValues() {
        func claim(_ name: String, _ json: String) -> ClaimValue? {
            JSONClaimScanner.claim(name, in: Array(json.utf8))
        }
        #expect(claim("a", #"{"a":"x\"y\\z\/\n"}"#) == .text("x\"y\\z/\n"))
        #expect(claim("a", #"{"a":"\u00e9\ud83d\ude00"}"#) == .text("é😀"))
        #expect(claim("a", #"{"\u0061":"escaped key"}"#) == .text("escaped key"))
        #expect(claim("a", #"{"a":true}"#) == .text("true"))
        #expect(claim("a", #"{"a":-1.5e+3}"#) == .text("-1.5e+3"))
        #expect(claim("a", #"{"a":{"b":[1,2,{"c":null}]}}"#) == .nonText)
        #expect(claim("a", #" { "b" : { "a" : "nested" } , "c":[] } "#) == .absent)
        #expect(claim("a", "{}") == .absent)
        #expect(claim("a", #"{"a":1,"a":1}"#) == nil)  // a duplicate of the claim asked for
        #expect(claim("a", #"{"a":1,"b":1,"b":2}"#) == .text("1"))  // other duplicates are not our business
        #expect(claim("a", #"{"a":"x""#) == nil)
        #expect(claim("a", "{\"a\":\"tab\u{9}in string\"}") == nil)
        #expect(claim("a", #"{"a":1,}"#) == nil)
        #expect(claim("a", #"{"a":-}"#) == nil)
        #expect(claim("a", #"{"a":1.}"#) == nil)
        #expect(claim("a", #"{"a":tru}"#) == nil)
        #expect(claim("a", #"{"a":"\x"}"#) == nil)
        #expect(claim("a", #"{"a":"\udc00"}"#) == nil)
        let deep = "{\"a\":" + String(repeating: "[", count: JSONClaimScanner.maxDepth + 1)
            + String(repeating: "]", count: JSONClaimScanner.maxDepth + 1) + "}"
        #expect(claim("a", deep) == nil)
        let shallow = "{\"a\":" + String(repeating: "[", count: JSONClaimScanner.maxDepth)
            + String(repeating: "]", count: JSONClaimScanner.maxDepth) + "}"
        #expect(claim("a", shallow) == .nonText)
        #expect(JSONClaimScanner.claim("a", in: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) == nil)
    }

    @Test("base64url decoding is strict")
    func base64() {
        #expect(Base64URL.decode("aGk".utf8) == Array("hi".utf8))
        #expect(Base64URL.decode("-_8".utf8) == [0xFB, 0xFF])
        #expect(Base64URL.decode("".utf8) == [])
        #expect(Base64URL.decode("aGk=".utf8) == nil)
        #expect(Base64URL.decode("a".utf8) == nil)
        #expect(Base64URL.decode("+/8".utf8) == nil)
        #expect(Base64URL.decode("aGl".utf8) == nil)  // non-zero unused bits
    }

    @Test("a token is decoded once and shared by routes on the same header")
    func sharedToken() throws {
        let router = try makeRouter(
            """
              - match: { jwt: { claim: a, exact: "1" } }
                cluster: a
              - match: { jwt: { claim: b, exact: "2" } }
                cluster: b
            """
        )
        var reads = 0
        let token = "Bearer " + jwt(payload: #"{"b":2}"#)
        let request = RouteRequest(method: "GET", host: nil, path: "/") { name in
            guard name == "Authorization" else { return nil }
            reads += 1
            return token
        }
        #expect(router.cluster(request) == "b")
        #expect(reads == 1)
    }
}
