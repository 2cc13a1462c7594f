import FulcrumConfig
import FulcrumCore
import Testing

@Suite("The defaults document")
struct DefaultsDocumentTests {
    @Test("is a valid configuration whose values are the defaults")
    func parsesToDefaults() throws {
        let document = FulcrumConfiguration.defaultsDocument
        let configuration = try ConfigLoader.parse(yaml: document, file: "defaults.yaml")
        #expect(configuration.listeners == [ListenerConfig.defaults])
        #expect(configuration.timeouts == ClientTimeouts.defaults)
        #expect(configuration.routes == [RouteConfig(target: .cluster("example"))])
        var cluster = ClusterConfig.defaults
        cluster.backends = [BackendConfig(address: BackendAddress(host: "127.0.0.1", port: 9001))]
        #expect(configuration.clusters == [cluster])
    }

    @Test("names every key, commented out when it has no default")
    func everyKey() {
        let document = FulcrumConfiguration.defaultsDocument
        let keys = [
            "listeners:", "name:", "address:", "port:", "protocol:", "default_cluster:", "routes:", "match:", "host:",
            "path:", "headers:", "query:", "cookies:", "jwt:", "verification:", "hs256_secret:",
            "rs256_public_key_file:",
            "cluster:", "split:", "split_key:", "forwarded:", "x_forwarded_for:", "request_id:", "preserve_host:",
            "clusters:", "algorithm:", "hash_key:", "hash_method:", "hash_bound:", "backends:", "weight:", "backup:",
            "max_in_flight:", "timeouts:", "connect:", "first_byte:", "idle:", "retries:", "retry_budget_percent:",
            "panic_threshold_percent:", "slow_start:", "window:", "aggression:", "min_weight_percent:",
            "outlier_detection:", "consecutive_gateway_failures:", "base_ejection_time:", "max_ejection_time:",
            "max_ejection_percent:", "health_check:", "type:", "interval:", "timeout:", "rise:", "fall:",
            "method:", "expect_status:", "expect_body:", "expect_body_regex:", "required:", "warn_weight_percent:",
            "send:", "expect:", "port:", "fast_interval:", "down_interval:", "jitter_percent:", "initial:",
            "client_header:", "client_idle:", "drain:", "proxy_protocol:", "trusted:", "idle_timeout:",
            "max_sessions:", "max_connections:", "access_log:", "per_try:",
        ]
        for key in keys {
            #expect(document.contains(key), "the defaults document lacks \(key)")
        }
        #expect(document.contains("retries: 2 "))
        #expect(document.contains("connect: 2s "))
        #expect(document.contains("max_ejection_time: 5m "))
        #expect(document.contains("#   interval: 2s"))
        #expect(document.contains("drain: 30s "))
    }

    @Test("the health-check block, uncommented, parses to its defaults")
    func healthCheckBlock() throws {
        var inBlock = false
        let document = FulcrumConfiguration.defaultsDocument
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                let text = String(line)
                if text.hasPrefix("    # health_check:") {
                    inBlock = true
                } else if !text.hasPrefix("    #   ") {
                    inBlock = false
                }
                return inBlock ? "    " + text.dropFirst(6) : text
            }
            .joined(separator: "\n")
        let configuration = try ConfigLoader.parse(yaml: document, file: "defaults.yaml")
        #expect(configuration.clusters[0].healthCheck == .defaults)
    }
}
