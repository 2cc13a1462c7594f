import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Testing

@Suite("Routing: matching")
struct RoutingMatchTests {
    // MARK: Order, default, no route

    @Test("the first matching route wins, in file order")
    func firstMatchWins() throws {
        let router = try makeRouter(
            """
              - name: api-v2
                match: { path: { prefix: /api/v2 } }
                cluster: b
              - name: api
                match: { path: { prefix: /api } }
                cluster: a
              - name: everything
                cluster: c
            """
        )
        #expect(router.decide(RouteRequest(path: "/api/v2/users")) == .cluster("b", route: "api-v2"))
        #expect(router.decide(RouteRequest(path: "/api/v1/users")) == .cluster("a", route: "api"))
        #expect(router.decide(RouteRequest(path: "/")) == .cluster("c", route: "everything"))
    }

    @Test("an earlier broader route shadows a later narrower one")
    func orderNotSpecificity() throws {
        let router = try makeRouter(
            """
              - match: { path: { prefix: /api } }
                cluster: a
              - match: { path: { prefix: /api/v2 } }
                cluster: b
            """
        )
        #expect(router.decide(RouteRequest(path: "/api/v2")) == .cluster("a", route: nil))
    }

    @Test("no match goes to the listener's default cluster, with no route name")
    func defaultCluster() throws {
        let router = try makeRouter(
            """
              - name: api
                match: { path: { prefix: /api } }
                cluster: a
            """,
            defaultCluster: "fallback"
        )
        #expect(router.decide(RouteRequest(path: "/other")) == .cluster("fallback", route: nil))
        #expect(router.defaultCluster == "fallback")
    }

    @Test("no match and no default cluster is noRoute")
    func noRoute() throws {
        let router = try makeRouter(
            """
              - match: { path: { prefix: /api } }
                cluster: a
            """
        )
        #expect(router.decide(RouteRequest(path: "/other")) == .noRoute)
        let empty = try Router(routes: [], defaultCluster: nil)
        #expect(empty.decide(RouteRequest(path: "/")) == .noRoute)
        let onlyDefault = try Router(routes: [], defaultCluster: "a")
        #expect(onlyDefault.decide(RouteRequest(path: "/")) == .cluster("a", route: nil))
    }

    @Test("every condition of a route must hold")
    func allConditions() throws {
        let router = try makeRouter(
            """
              - match:
                  host: api.example.com
                  path: { prefix: /v1 }
                  headers: [ { name: X-Env, exact: staging } ]
                cluster: a
            """
        )
        let headers = [(name: "X-Env", value: "staging")]
        #expect(router.cluster("/v1/x", host: "api.example.com", headers: headers) == "a")
        #expect(router.cluster("/v2/x", host: "api.example.com", headers: headers) == nil)
        #expect(router.cluster("/v1/x", host: "www.example.com", headers: headers) == nil)
        #expect(router.cluster("/v1/x", host: "api.example.com") == nil)
    }

    // MARK: Host

    @Test(
        "exact hosts compare case-insensitively without the port or a trailing dot",
        arguments: [
            ("api.example.com", true),
            ("API.Example.COM", true),
            ("api.example.com:8443", true),
            ("api.example.com.", true),
            ("api.example.com.:80", true),
            ("example.com", false),
            ("x.api.example.com", false),
            ("api.example.co", false),
            ("api.example.comx", false),
            ("", false),
        ]
    )
    func exactHost(host: String, matches: Bool) throws {
        let router = try makeRouter(
            """
              - match: { host: API.example.com }
                cluster: a
            """
        )
        #expect((router.cluster("/", host: host) == "a") == matches)
    }

    @Test("a request without Host matches no host condition")
    func missingHost() throws {
        let router = try makeRouter(
            """
              - match: { host: api.example.com }
                cluster: a
            """
        )
        #expect(router.cluster("/", host: nil) == nil)
    }

    @Test(
        "*.example.com matches one or more labels below example.com, not example.com",
        arguments: [
            ("a.example.com", true),
            ("A.EXAMPLE.com", true),
            ("a.b.example.com", true),
            ("a.example.com:8080", true),
            ("example.com", false),
            (".example.com", false),
            ("aexample.com", false),
            ("a.example.org", false),
            ("example.com.evil.net", false),
        ]
    )
    func wildcardHost(host: String, matches: Bool) throws {
        let router = try makeRouter(
            """
              - match: { host: "*.example.com" }
                cluster: a
            """
        )
        #expect((router.cluster("/", host: host) == "a") == matches)
    }

    @Test("the Host header is used when the request gives no separate host")
    func hostFromHeaders() throws {
        let router = try makeRouter(
            """
              - match: { host: api.example.com }
                cluster: a
            """
        )
        let request = RouteRequest(path: "/", headers: [("host", "API.example.com:80")])
        #expect(router.cluster(request) == "a")
    }

    @Test("IPv4 and bracketed IPv6 hosts, with and without ports")
    func addressHosts() throws {
        let router = try makeRouter(
            """
              - match: { host: 10.0.0.1 }
                cluster: a
              - match: { host: "[::1]" }
                cluster: b
            """
        )
        #expect(router.cluster("/", host: "10.0.0.1:8080") == "a")
        #expect(router.cluster("/", host: "10.0.0.1") == "a")
        #expect(router.cluster("/", host: "[::1]:8080") == "b")
        #expect(router.cluster("/", host: "[::1]") == "b")
        #expect(router.cluster("/", host: "[::2]:8080") == nil)
    }

    // MARK: Path

    @Test(
        "prefix is a plain string prefix of the path",
        arguments: [("/api", true), ("/api/x", true), ("/apix", true), ("/ap", false), ("/API", false), ("/x/api", false)]
    )
    func pathPrefix(path: String, matches: Bool) throws {
        let router = try makeRouter(
            """
              - match: { path: { prefix: /api } }
                cluster: a
            """
        )
        #expect((router.cluster(path) == "a") == matches)
    }

    @Test(
        "exact compares the whole path, byte for byte, without the query",
        arguments: [("/health", true), ("/health?full=1", true), ("/health/", false), ("/Health", false), ("/healthz", false)]
    )
    func pathExact(target: String, matches: Bool) throws {
        let router = try makeRouter(
            """
              - match: { path: { exact: /health } }
                cluster: a
            """
        )
        #expect((router.cluster(target) == "a") == matches)
    }

    @Test(
        "regex is searched in the path; ^ and $ anchor it",
        arguments: [
            ("/v1/users", "a"), ("/v12/x", "a"), ("/v/x", nil), ("/api/v1/users", "b"), ("/x/report.csv", "c"),
            ("/x/report.csv.bak", nil),
        ] as [(String, String?)]
    )
    func pathRegex(path: String, cluster: String?) throws {
        let router = try makeRouter(
            #"""
              - match: { path: { regex: "^/v[0-9]+/" } }
                cluster: a
              - match: { path: { regex: "/v[0-9]+/" } }
                cluster: b
              - match: { path: { regex: "\\.csv$" } }
                cluster: c
            """#
        )
        #expect(router.cluster(path) == cluster)
    }

    @Test("a path regex does not see the query")
    func pathRegexIgnoresQuery() throws {
        let router = try makeRouter(
            """
              - match: { path: { regex: "q=1" } }
                cluster: a
            """
        )
        #expect(router.cluster("/x?q=1") == nil)
    }

    @Test("paths are matched as sent, not percent-decoded")
    func pathNotDecoded() throws {
        let router = try makeRouter(
            """
              - match: { path: { prefix: /api } }
                cluster: a
            """
        )
        #expect(router.cluster("/%61pi") == nil)
    }

    // MARK: Headers

    @Test(
        "header conditions: exact, prefix, regex, present",
        arguments: [
            ("exact: staging", "staging", true),
            ("exact: staging", "Staging", false),
            ("exact: staging", "staging-2", false),
            ("prefix: stag", "staging", true),
            ("prefix: stag", "prestaging", false),
            (#"regex: "^st.*g$""#, "staging", true),
            (#"regex: "^st.*g$""#, "stage", false),
            (#"regex: "gin""#, "staging", true),
            ("present: true", "", true),
            ("present: true", "x", true),
            ("present: false", "x", false),
        ]
    )
    func headerConditions(condition: String, value: String, matches: Bool) throws {
        let router = try makeRouter(
            """
              - match: { headers: [ { name: X-Env, \(condition) } ] }
                cluster: a
            """
        )
        #expect((router.cluster("/", headers: [("x-env", value)]) == "a") == matches)
    }

    @Test("an absent header: only present: false holds")
    func absentHeader() throws {
        let router = try makeRouter(
            """
              - match: { headers: [ { name: X-Env, exact: "" } ] }
                cluster: a
              - match: { headers: [ { name: X-Env, present: true } ] }
                cluster: b
              - match: { headers: [ { name: X-Env, present: false } ] }
                cluster: c
            """
        )
        #expect(router.cluster("/", headers: [("X-Other", "1")]) == "c")
        #expect(router.cluster("/", headers: [("X-Env", "")]) == "a")
        #expect(router.cluster("/", headers: [("X-ENV", "prod")]) == "b")
    }

    @Test("header names compare case-insensitively and the first value is used")
    func headerFirstValue() throws {
        let router = try makeRouter(
            """
              - match: { headers: [ { name: x-tenant, exact: acme } ] }
                cluster: a
            """
        )
        #expect(router.cluster("/", headers: [("X-TENANT", "acme"), ("x-tenant", "other")]) == "a")
        #expect(router.cluster("/", headers: [("X-Tenant", "other"), ("x-tenant", "acme")]) == nil)
    }

    @Test("several header conditions must all hold")
    func severalHeaders() throws {
        let router = try makeRouter(
            """
              - match:
                  headers:
                    - { name: X-A, exact: "1" }
                    - { name: X-B, present: true }
                cluster: a
            """
        )
        #expect(router.cluster("/", headers: [("X-A", "1"), ("X-B", "")]) == "a")
        #expect(router.cluster("/", headers: [("X-A", "1")]) == nil)
        #expect(router.cluster("/", headers: [("X-B", "1")]) == nil)
    }

    @Test("the request is read through the header closure")
    func headerClosure() throws {
        let router = try makeRouter(
            """
              - match: { headers: [ { name: X-Env, exact: staging } ] }
                cluster: a
            """
        )
        let request = RouteRequest(method: "GET", host: "example.com", path: "/") { name in
            name.lowercased() == "x-env" ? "staging" : nil
        }
        #expect(router.cluster(request) == "a")
    }

    // MARK: Query

    @Test(
        "query conditions on the first value of a parameter",
        arguments: [
            ("variant=b", "b"),
            ("x=1&variant=b&y=2", "b"),
            ("variant=a&variant=b", nil),
            ("variant=b&variant=a", "b"),
            ("variant=bb", nil),
            ("Variant=b", nil),
            ("variant", nil),
            ("", nil),
            ("&&variant=b&&", "b"),
            ("xvariant=b", nil),
        ] as [(String, String?)]
    )
    func queryExact(query: String, cluster: String?) throws {
        let router = try makeRouter(
            """
              - match: { query: [ { name: variant, exact: b } ] }
                cluster: b
            """
        )
        #expect(router.cluster("/?" + query) == cluster)
    }

    @Test("a parameter without = or with an empty value is present and empty")
    func queryEmptyValues() throws {
        let router = try makeRouter(
            """
              - match: { query: [ { name: debug, exact: "" } ] }
                cluster: a
              - match: { query: [ { name: debug, present: true } ] }
                cluster: b
              - match: { query: [ { name: debug, present: false } ] }
                cluster: c
            """
        )
        #expect(router.cluster("/?debug") == "a")
        #expect(router.cluster("/?debug=") == "a")
        #expect(router.cluster("/?debug=1") == "b")
        #expect(router.cluster("/?other=1") == "c")
        #expect(router.cluster("/") == "c")
        #expect(router.cluster("/?") == "c")
    }

    @Test("a value keeps every = after the first")
    func queryEqualsInValue() throws {
        let router = try makeRouter(
            """
              - match: { query: [ { name: token, exact: "a=b==" } ] }
                cluster: a
            """
        )
        #expect(router.cluster("/?token=a=b==") == "a")
        #expect(router.cluster("/?token=a") == nil)
    }

    @Test("values and names are percent-decoded; + is not a space; bad escapes stay as sent")
    func queryPercentDecoding() throws {
        let router = try makeRouter(
            """
              - match: { query: [ { name: q, exact: "hello world" } ] }
                cluster: a
              - match: { query: [ { name: q, exact: "a+b" } ] }
                cluster: b
              - match: { query: [ { name: q, exact: "%zz" } ] }
                cluster: c
            """
        )
        #expect(router.cluster("/?q=hello%20world") == "a")
        #expect(router.cluster("/?%71=hello%20world") == "a")
        #expect(router.cluster("/?q=hello+world") == nil)
        #expect(router.cluster("/?q=a+b") == "b")
        #expect(router.cluster("/?q=%zz") == "c")
        #expect(router.cluster("/?q=%") == nil)
    }

    @Test("query prefix and regex")
    func queryPrefixRegex() throws {
        let router = try makeRouter(
            """
              - match: { query: [ { name: v, prefix: beta } ] }
                cluster: a
              - match: { query: [ { name: v, regex: "^[0-9]+$" } ] }
                cluster: b
            """
        )
        #expect(router.cluster("/?v=beta-2") == "a")
        #expect(router.cluster("/?v=123") == "b")
        #expect(router.cluster("/?v=12a") == nil)
    }

    @Test("QueryString reads names and values", arguments: [
        ("a=1&b=2", "b", "2"),
        ("a=1&a=2", "a", "1"),
        ("a", "a", ""),
        ("a=", "a", ""),
        ("=x&a=3", "a", "3"),
        ("a=x=y", "a", "x=y"),
        ("a%3Db=1", "a=b", "1"),
        ("c=%E2%9C%93", "c", "✓"),
        ("c=%FF", "c", "%FF"),
        ("b=1", "a", nil),
    ] as [(String, String, String?)])
    func queryParsing(query: String, name: String, value: String?) {
        #expect(QueryString.value(named: name, in: query).map(String.init) == value)
    }

    // MARK: Cookies

    @Test(
        "cookie conditions read name=value pairs separated by ; ",
        arguments: [
            ("beta=1", "a"),
            ("sid=x; beta=1", "a"),
            ("sid=x;beta=1", "a"),
            ("  beta = 1 ; x=2", "a"),
            ("beta=1; beta=0", "a"),
            ("beta=0; beta=1", nil),
            ("beta=10", nil),
            ("Beta=1", nil),
            ("xbeta=1", nil),
            ("beta", nil),
            ("", nil),
        ] as [(String, String?)]
    )
    func cookieExact(header: String, cluster: String?) throws {
        let router = try makeRouter(
            """
              - match: { cookies: [ { name: beta, exact: "1" } ] }
                cluster: a
            """
        )
        #expect(router.cluster("/", headers: [("Cookie", header)]) == cluster)
    }

    @Test("cookie values keep = and quotes; empty values are present")
    func cookieValues() throws {
        let router = try makeRouter(
            #"""
              - match: { cookies: [ { name: t, exact: "a=b=" } ] }
                cluster: a
              - match: { cookies: [ { name: t, exact: "\"q\"" } ] }
                cluster: b
              - match: { cookies: [ { name: t, exact: "" } ] }
                cluster: c
              - match: { cookies: [ { name: t, present: false } ] }
                cluster: fallback
            """#
        )
        #expect(router.cluster("/", headers: [("Cookie", "t=a=b=")]) == "a")
        #expect(router.cluster("/", headers: [("Cookie", #"t="q""#)]) == "b")
        #expect(router.cluster("/", headers: [("Cookie", "t=")]) == "c")
        #expect(router.cluster("/", headers: [("Cookie", "x=1; t=")]) == "c")
        #expect(router.cluster("/", headers: [("Cookie", "t")]) == "fallback")
        #expect(router.cluster("/") == "fallback")
    }

    @Test("several Cookie header lines are read as one")
    func severalCookieHeaders() throws {
        let router = try makeRouter(
            """
              - match: { cookies: [ { name: beta, exact: "1" }, { name: sid, prefix: "s-" } ] }
                cluster: a
            """
        )
        #expect(router.cluster("/", headers: [("Cookie", "sid=s-42"), ("cookie", "beta=1")]) == "a")
        #expect(router.cluster("/", headers: [("Cookie", "sid=s-42")]) == nil)
    }

    @Test("CookieHeader reads pairs", arguments: [
        ("a=1; b=2", "b", "2"),
        ("a=1;b=2;", "b", "2"),
        ("a=1; ; b=2", "b", "2"),
        ("a=1; a=2", "a", "1"),
        ("a=", "a", ""),
        ("a = x y ", "a", "x y"),
        ("a", "a", nil),
        ("b=1", "a", nil),
    ] as [(String, String, String?)])
    func cookieParsing(header: String, name: String, value: String?) {
        #expect(CookieHeader.value(named: name, in: header).map(String.init) == value)
    }

    // MARK: Errors

    @Test("a regex that does not compile fails at init")
    func invalidRegex() {
        let route = RouteConfig(name: "bad", match: RouteMatch(path: .regex("(")), target: .cluster("a"))
        #expect {
            _ = try Router(routes: [route], defaultCluster: nil)
        } throws: { error in
            (error as? RouterError)?.code == .invalidRegex && "\(error)".contains("route 'bad'")
        }
    }

    @Test("a split whose weights sum to 0 fails at init")
    func zeroSplit() {
        let route = RouteConfig(target: .split([WeightedCluster(cluster: "a", weight: 0)]))
        #expect {
            _ = try Router(routes: [route], defaultCluster: nil)
        } throws: { error in
            (error as? RouterError)?.code == .invalidTarget && "\(error)".contains("route 1")
        }
    }
}
