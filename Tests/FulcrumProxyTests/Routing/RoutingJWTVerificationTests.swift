import Crypto
import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import NIOPosix
import Testing
import _CryptoExtras

/// Signed tokens, made here with swift-crypto: HS256 with a secret, RS256
/// with a key pair generated per run.
enum SignedToken {
    static func hs256(_ payload: String, secret: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let input = base64URL(header) + "." + base64URL(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + encode(Data(mac))
    }

    static func rs256(_ payload: String, key: _RSA.Signing.PrivateKey) throws -> String {
        let input = base64URL(#"{"alg":"RS256","typ":"JWT"}"#) + "." + base64URL(payload)
        let signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + encode(signature.rawRepresentation)
    }

    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A payload with `tenant` and an expiry `expiresIn` seconds from now.
    static func payload(tenant: String, expiresIn: Int = 3600) -> String {
        #"{"sub":"u1","tenant":"\#(tenant)","exp":\#(Int(Date().timeIntervalSince1970) + expiresIn)}"#
    }
}

@Suite("Routing: verified JWT claims")
struct RoutingJWTVerificationTests {
    static let routes = """
          - name: signed
            match:
              path: { prefix: /api }
              jwt: { claim: tenant, exact: acme, verification: { hs256_secret: correct-horse-battery-staple-2026 } }
            cluster: a
          - name: public
            match: { path: { prefix: / } }
            cluster: b
        """

    @Test("HS256: a genuine, current token routes on its claim; a forged, expired or unsigned one is refused")
    func hs256() throws {
        let router = try makeRouter(Self.routes)
        let good = SignedToken.hs256(SignedToken.payload(tenant: "acme"), secret: "correct-horse-battery-staple-2026")
        #expect(router.decide(RouteRequest(path: "/api/x", headers: bearer(good))) == .cluster("a", route: "signed"))
        // Genuine but another tenant: the route does not match, nothing is refused.
        let other = SignedToken.hs256(SignedToken.payload(tenant: "umbrella"), secret: "correct-horse-battery-staple-2026")
        #expect(router.decide(RouteRequest(path: "/api/x", headers: bearer(other))) == .cluster("b", route: "public"))
        // No token: the claim is absent, the route does not match.
        #expect(router.decide(RouteRequest(path: "/api/x")) == .cluster("b", route: "public"))

        let refused: [(String, String)] = [
            (SignedToken.hs256(SignedToken.payload(tenant: "acme"), secret: "guess"), "signature does not verify"),
            (SignedToken.hs256(SignedToken.payload(tenant: "acme", expiresIn: -60), secret: "correct-horse-battery-staple-2026"), "expired"),
            (jwt(payload: SignedToken.payload(tenant: "acme"), header: #"{"alg":"none"}"#), "algorithm none"),
            (SignedToken.hs256(SignedToken.payload(tenant: "acme"), secret: "correct-horse-battery-staple-2026", header: #"{"alg":"HS512"}"#), "algorithm HS512"),
            (
                SignedToken.hs256(#"{"tenant":"acme","exp":1,"exp":99999999999}"#, secret: "correct-horse-battery-staple-2026"),
                "expired"
            ),
            (SignedToken.hs256(#"{"tenant":"acme","exp":1e400}"#, secret: "correct-horse-battery-staple-2026"), "expired"),
            (SignedToken.hs256(#"{"tenant":"acme","exp":"inf"}"#, secret: "correct-horse-battery-staple-2026"), "expired"),
            (
                SignedToken.hs256(
                    #"{"tenant":"acme","nbf":\#(Int(Date().timeIntervalSince1970) + 600)}"#,
                    secret: "correct-horse-battery-staple-2026"
                ),
                "not valid yet"
            ),
        ]
        for (token, reason) in refused {
            let decision = router.decide(RouteRequest(path: "/api/x", headers: bearer(token)))
            guard case .unauthorized(let route, let why) = decision else {
                Issue.record("\(reason): \(decision)")
                continue
            }
            #expect(route == "signed")
            #expect(why.contains(reason), "\(why)")
        }
        // A token that is no JWT, or whose claim would not route here, is
        // not this route's business, even unverified: it goes on.
        #expect(router.decide(RouteRequest(path: "/api/x", headers: bearer("not.a.jwt!"))) == .cluster("b", route: "public"))
        let forgedOther = SignedToken.hs256(SignedToken.payload(tenant: "umbrella"), secret: "guess")
        #expect(router.decide(RouteRequest(path: "/api/x", headers: bearer(forgedOther))) == .cluster("b", route: "public"))
        // The route's other conditions come first: a bad token elsewhere is
        // not this route's business.
        let forged = SignedToken.hs256(SignedToken.payload(tenant: "acme"), secret: "guess")
        #expect(router.decide(RouteRequest(path: "/home", headers: bearer(forged))) == .cluster("b", route: "public"))
    }

    @Test("RS256 with a PEM public key; a token signed by another key, or HS256 on an RS256-only route, is refused")
    func rs256() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let stranger = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let route = RouteConfig(
            name: "signed",
            match: RouteMatch(
                jwt: JWTMatch(
                    claim: "tenant",
                    value: .exact("acme"),
                    verification: JWTVerification(rs256PublicKeyFile: "key.pem", rs256PublicKeyPEM: key.publicKey.pemRepresentation)
                )
            ),
            target: .cluster("a")
        )
        let router = try Router(routes: [route], defaultCluster: "fallback")
        let good = try SignedToken.rs256(SignedToken.payload(tenant: "acme"), key: key)
        #expect(router.decide(RouteRequest(path: "/", headers: bearer(good))) == .cluster("a", route: "signed"))
        // The same key as PKCS #1 (BEGIN RSA PUBLIC KEY) works too.
        var pkcs1 = route
        pkcs1.match.jwt?.verification?.rs256PublicKeyPEM = key.publicKey.pkcs1PEMRepresentation
        let pkcs1Router = try Router(routes: [pkcs1], defaultCluster: "fallback")
        #expect(pkcs1Router.decide(RouteRequest(path: "/", headers: bearer(good))) == .cluster("a", route: "signed"))
        let forged = try SignedToken.rs256(SignedToken.payload(tenant: "acme"), key: stranger)
        #expect(router.decide(RouteRequest(path: "/", headers: bearer(forged))) == .unauthorized(route: "signed", reason: "the token's signature does not verify"))
        // An HS256 token "signed" with the public key as a secret: the
        // classic algorithm confusion, refused because no secret is set.
        let confused = SignedToken.hs256(SignedToken.payload(tenant: "acme"), secret: key.publicKey.pemRepresentation)
        #expect(
            router.decide(RouteRequest(path: "/", headers: bearer(confused)))
                == .unauthorized(route: "signed", reason: "the token's algorithm HS256 is not one this route verifies")
        )
    }

    @Test("An HS256 secret shorter than 32 bytes is refused (RFC 7518 §3.2)")
    func shortSecret() throws {
        let route = RouteConfig(
            name: "signed",
            match: RouteMatch(jwt: JWTMatch(claim: "tenant", value: .present(true), verification: JWTVerification(hs256Secret: "short"))),
            target: .cluster("a")
        )
        #expect {
            _ = try Router(routes: [route], defaultCluster: nil)
        } throws: { error in
            (error as? RouterError)?.message.contains("at least 32") == true
        }
    }

    @Test("A key file that holds no RSA key, or one under 2048 bits, is refused when the router is built, naming the route and file")
    func badKey() throws {
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: _RSA.Signing.KeySize(bitCount: 1024))
        let refused = [
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n",
            small.publicKey.pemRepresentation,
        ]
        for pem in refused {
            let route = RouteConfig(
                name: "signed",
                match: RouteMatch(
                    jwt: JWTMatch(
                        claim: "tenant",
                        value: .present(true),
                        verification: JWTVerification(rs256PublicKeyFile: "key.pem", rs256PublicKeyPEM: pem)
                    )
                ),
                target: .cluster("a")
            )
            #expect {
                _ = try Router(routes: [route], defaultCluster: nil)
            } throws: { error in
                guard let error = error as? RouterError else { return false }
                return error.message.contains("route 'signed'") && error.message.contains("key.pem")
                    && error.message.contains("2048 bits")
            }
        }
    }
}

@Suite("Verified JWT routes through the proxy", .serialized)
struct JWTProxyTests {
    @Test("A forged token gets 401 with WWW-Authenticate and reaches no backend; a genuine RS256 token is proxied")
    func throughTheProxy() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "api", group: group)
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-jwt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try key.publicKey.pemRepresentation.write(to: directory.appendingPathComponent("key.pem"), atomically: true, encoding: .utf8)
        let port = try ProxyFixture.closedPort()
        let configuration = try ConfigLoader.parse(
            yaml: """
                listeners:
                  - { name: web, address: 127.0.0.1, port: \(port) }
                routes:
                  - name: api
                    match:
                      jwt: { claim: tenant, exact: acme, verification: { rs256_public_key_file: key.pem } }
                    cluster: api
                clusters:
                  api:
                    backends:
                      - address: 127.0.0.1:\(backend.port)
                """,
            file: directory.appendingPathComponent("fulcrum.yaml").path
        )
        let server = try await FulcrumServer.start(configuration, group: group)
        defer {
            Task {
                await server.stop(drainTimeout: .zero)
                await backend.stop()
                try? await group.shutdownGracefully()
            }
        }
        func get(_ token: String) throws -> String {
            try rawExchange(
                port: port,
                bytes: Array("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8)
            )
        }
        let good = try SignedToken.rs256(SignedToken.payload(tenant: "acme"), key: key)
        let answer = try get(good)
        #expect(answer.hasPrefix("HTTP/1.1 200 ") && answer.hasSuffix("api\n"), "\(answer)")

        let forged = try SignedToken.rs256(SignedToken.payload(tenant: "acme"), key: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        let picked = backend.health.requestsServed
        let refused = try get(forged)
        #expect(refused.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "\(refused)")
        #expect(refused.contains("WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"))
        #expect(backend.health.requestsServed == picked)
    }
}
