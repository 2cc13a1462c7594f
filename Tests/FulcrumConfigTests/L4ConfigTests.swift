import FulcrumConfig
import FulcrumCore
import Testing

@Suite("L4 settings: PROXY protocol, idle timeouts, UDP sessions, ip_port hashing")
struct L4ConfigTests {
    @Test("every L4 key read into the model")
    func reads() throws {
        let configuration = try #require(
            valid(
                """
                listeners:
                  - port: 7000
                    protocol: tcp
                    default_cluster: redis
                    proxy_protocol: accept
                    trusted: [10.0.0.0/8, 192.168.1.5, "fd00::/8"]
                    idle_timeout: 10m
                    max_connections: 20000
                  - port: 5353
                    protocol: udp
                    default_cluster: dns
                    max_sessions: 500
                clusters:
                  dns:
                    backends: [127.0.0.1:5301]
                  redis:
                    algorithm: hash
                    hash_key: ip_port
                    proxy_protocol: v2
                    backends: [127.0.0.1:6379]
                """
            )
        )
        let tcp = configuration.listeners[0]
        #expect(tcp.proxyProtocolTrusted?.map(\.description) == ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"])
        #expect(tcp.effectiveIdleTimeout == .seconds(600))
        #expect(tcp.maxConnections == 20000)
        let udp = configuration.listeners[1]
        #expect(udp.maxSessions == 500)
        #expect(udp.proxyProtocolTrusted == nil)
        #expect(udp.effectiveIdleTimeout == .seconds(60))
        let cluster = configuration.clusters[1]
        #expect(cluster.hashKey == .clientIP)
        #expect(cluster.hashIncludesClientPort)
        #expect(cluster.proxyProtocol == .v2)
    }

    @Test("defaults: no PROXY protocol, 1 h tcp and 60 s udp idle, 10,000 sessions")
    func defaults() {
        #expect(ListenerConfig.defaults.proxyProtocolTrusted == nil)
        #expect(ListenerConfig.defaults.maxSessions == 10_000)
        #expect(ListenerConfig.defaults.maxConnections == nil)
        #expect(ListenerConfig.defaultIdleTimeout(for: .tcp) == .seconds(3600))
        #expect(ListenerConfig.defaultIdleTimeout(for: .udp) == .seconds(60))
        #expect(ClusterConfig.defaults.proxyProtocol == .off)
    }

    @Test("each mistake names file, line, column, key path, what was found and what is accepted")
    func errors() {
        let lines = errorLines(
            """
            listeners:
              - port: 7000
                protocol: tcp
                proxy_protocol: accept
              - port: 7001
                protocol: tcp
                proxy_protocol: acept
                trusted: [10.0.0.1/8, 10.0.0.0/33, lb.internal, 10.0.0.0/8]
              - port: 7002
                idle_timeout: 5s
                max_sessions: 10
              - port: 7003
                protocol: udp
                proxy_protocol: accept
                trusted: [10.0.0.0/8]
                max_sessions: 0
                max_connections: 5
              - port: 7004
                protocol: tcp
                max_connections: 0
            clusters:
              api:
                proxy_protocol: v3
                backends: [127.0.0.1:9001]
            """
        )
        #expect(
            lines == [
                "fulcrum.yaml:2:5: listeners[0].trusted: found nothing; expected a list of the networks allowed to send PROXY headers, such as [10.0.0.0/8] (required with proxy_protocol: accept; 0.0.0.0/0 trusts every IPv4 source)",
                "fulcrum.yaml:7:21: listeners[1].proxy_protocol: found 'acept'; expected one of accept, off; did you mean 'accept'?",
                "fulcrum.yaml:8:14: listeners[1].trusted: found trusted without proxy_protocol: accept; expected trusted only with proxy_protocol: accept",
                "fulcrum.yaml:10:19: listeners[2].idle_timeout: found idle_timeout on an http listener; expected idle_timeout on tcp and udp listeners; http uses timeouts.client_idle",
                "fulcrum.yaml:11:19: listeners[2].max_sessions: found max_sessions with protocol http; expected max_sessions only on udp listeners",
                "fulcrum.yaml:14:21: listeners[3].proxy_protocol: found proxy_protocol: accept on a udp listener; expected proxy_protocol: accept only on http and tcp listeners (datagrams carry no header)",
                "fulcrum.yaml:16:19: listeners[3].max_sessions: found 0; expected a whole number from 1 to 1000000",
                "fulcrum.yaml:17:22: listeners[3].max_connections: found max_connections with protocol udp; expected max_connections only on tcp listeners (udp has max_sessions)",
                "fulcrum.yaml:20:22: listeners[4].max_connections: found 0; expected a whole number from 1 to 10000000",
                "fulcrum.yaml:23:21: clusters.api.proxy_protocol: found 'v3'; expected one of off, v1, v2; did you mean 'v1'?",
            ]
        )
    }

    @Test("a udp listener cannot use a cluster that sends PROXY protocol")
    func udpWithProxyProtocolCluster() {
        let lines = errorLines(
            """
            listeners:
              - { port: 5353, protocol: udp, default_cluster: dns }
            clusters:
              dns:
                proxy_protocol: v2
                backends: [127.0.0.1:5301]
            """
        )
        #expect(
            lines == [
                "fulcrum.yaml:2:51: listeners[0].default_cluster: found the cluster 'dns', which sends PROXY protocol headers, on a udp listener; expected a cluster with proxy_protocol: off for udp listeners (flows carry no header)"
            ]
        )
    }

    @Test("trusted networks: host bits, prefixes and host names are refused with a hint")
    func trustedErrors() {
        let lines = errorLines(
            """
            listeners:
              - port: 7000
                protocol: tcp
                proxy_protocol: accept
                trusted: [10.0.0.1/8, 10.0.0.0/33, lb.internal]
            clusters:
              api:
                backends: [127.0.0.1:9001]
            """
        )
        #expect(
            lines == [
                "fulcrum.yaml:5:15: listeners[0].trusted[0]: found '10.0.0.1/8'; expected a network address with its host bits zero; did you mean 10.0.0.0/8?",
                "fulcrum.yaml:5:27: listeners[0].trusted[1]: found '10.0.0.0/33'; expected a prefix length of 0 to 32 for IPv4 or 0 to 128 for IPv6, such as /24",
                "fulcrum.yaml:5:40: listeners[0].trusted[2]: found 'lb.internal'; expected an IPv4 or IPv6 address with an optional /prefix, such as 10.0.0.0/8 or fd00::/8; host names are not accepted: the check is on the connecting address",
            ]
        )
    }
}
