import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import NIOCore
import NIOPosix
import Testing

@Suite("Serving from a configuration", .serialized)
struct ConfiguredServerTests {
    @Test("Routes by path and host to the right cluster, absolute-form targets too; no route is 404; a tcp listener relays")
    func routing() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let api1 = try await DemoBackend.start(name: "api-1", group: group)
        let api2 = try await DemoBackend.start(name: "api-2", group: group)
        let web = try await DemoBackend.start(name: "web-1", group: group)
        let tcp = try await DemoTCPBackend.start(name: "tcp-1", group: group)
        // The config, like production configs, takes real ports, not 0.
        let frontPort = try ProxyFixture.closedPort()
        let rawPort = try ProxyFixture.closedPort()
        let yaml = """
            listeners:
              - name: front
                address: 127.0.0.1
                port: \(frontPort)
              - name: raw
                address: 127.0.0.1
                port: \(rawPort)
                protocol: tcp
                default_cluster: tcp
            routes:
              - name: api
                match: { path: { prefix: /api } }
                cluster: api
              - name: web
                match: { host: www.example.com }
                cluster: web
            clusters:
              api:
                algorithm: round-robin
                backends:
                  - address: 127.0.0.1:\(api1.port)
                  - address: 127.0.0.1:\(api2.port)
              web:
                backends:
                  - address: 127.0.0.1:\(web.port)
              tcp:
                backends:
                  - address: 127.0.0.1:\(tcp.port)
            """
        let configuration = try ConfigLoader.parse(yaml: yaml, file: "test.yaml")
        let server = try await FulcrumServer.start(configuration, group: group)
        defer {
            Task {
                await server.stop()
                for backend in [api1, api2, web] { await backend.stop() }
                await tcp.stop()
                try? await group.shutdownGracefully()
            }
        }
        let front = "http://127.0.0.1:\(server.listeners[0].port)"
        var apiNames: Set<String> = []
        for _ in 0..<4 {
            apiNames.insert(try await curl([front + "/api/users"]).body.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(apiNames == ["api-1", "api-2"])
        let site = try await curl(["-H", "Host: www.example.com", front + "/"])
        #expect(site.status == 200 && site.body == "web-1\n")
        let none = try await curl([front + "/elsewhere"])
        #expect(none.status == 404)
        // Absolute-form, as clients send to a proxy: the target's path and
        // authority route, and the authority wins over Host (RFC 9112 §3.2.2).
        let absoluteAPI = try await curl(["--request-target", "http://other.example/api/users", front + "/"])
        #expect(absoluteAPI.status == 200 && absoluteAPI.body.hasPrefix("api-"))
        let absoluteWeb = try await curl(["--request-target", "http://www.example.com", "-H", "Host: other.example", front + "/"])
        #expect(absoluteWeb.status == 200 && absoluteWeb.body == "web-1\n")
        let absoluteNone = try await curl(["--request-target", "http://other.example/web", "-H", "Host: www.example.com", front + "/"])
        #expect(absoluteNone.status == 404)
        let relayed = try rawExchange(port: server.listeners[1].port, bytes: Array("ping\n".utf8), halfClose: true)
        #expect(relayed == "tcp-1\nping\nbye tcp-1\n")
    }

    @Test("A route's header settings: Forwarded on, X-Forwarded-For and X-Request-ID off, the backend's own Host")
    func routeHeaders() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = try await DemoBackend.start(name: "echo", group: group)
        let port = try ProxyFixture.closedPort()
        let yaml = """
            listeners:
              - { name: front, address: 127.0.0.1, port: \(port) }
            routes:
              - match: { path: { prefix: / } }
                cluster: echo
                headers: { forwarded: true, x_forwarded_for: false, request_id: false, preserve_host: false }
            clusters:
              echo:
                backends:
                  - address: 127.0.0.1:\(backend.port)
            """
        let server = try await FulcrumServer.start(try ConfigLoader.parse(yaml: yaml, file: "test.yaml"), group: group)
        defer {
            Task {
                await server.stop(drainTimeout: .zero)
                await backend.stop()
                try? await group.shutdownGracefully()
            }
        }
        let result = try await curl(["-H", "Host: shop.example", "http://127.0.0.1:\(port)/headers"])
        let lines = Set(result.body.split(separator: "\n").map(String.init))
        #expect(lines.contains("forwarded: for=127.0.0.1;host=\"shop.example\";proto=http"))
        #expect(lines.contains("host: 127.0.0.1:\(backend.port)"))
        #expect(!lines.contains { $0.hasPrefix("x-forwarded-for") || $0.hasPrefix("x-request-id") })
    }
}
