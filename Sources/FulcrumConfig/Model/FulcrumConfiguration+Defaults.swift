import FulcrumCore

extension FulcrumConfiguration {
    /// Every setting with its default and a comment, as YAML, for
    /// `fulcrum validate --print-defaults`.
    ///
    /// The text is built from the models' `defaults`, so it cannot drift from
    /// them, and it is itself a valid configuration: the required values
    /// (a port, a cluster and its backend) are filled in with examples, and
    /// optional settings without a default are shown commented out.
    public static var defaultsDocument: String {
        let listener = ListenerConfig.defaults
        let headers = RouteHeaders.defaults
        let cluster = ClusterConfig.defaults
        let backend = BackendConfig(address: BackendAddress(host: "127.0.0.1", port: 9001))
        let check = HealthCheckConfig.defaults
        let client = ClientTimeouts.defaults
        let d = DurationText.format
        let n = ConfigReader.format

        var doc = DocumentBuilder()
        doc.comment("fulcrum.yaml: every setting with its default (fulcrum validate --print-defaults).")
        doc.comment("This is a valid configuration. Required values have no default: the port, the cluster")
        doc.comment("'example' and its backend are examples. Optional settings without a default are commented out.")
        doc.comment("Durations: 500ms, 2s, 1m, 1h30m. Percentages: 0 to 100. Unknown keys are errors.")
        doc.blank()
        doc.line(0, "listeners:", "where clients connect; at least one")
        doc.line(1, "- port: \(listener.port)", "required: 1 to 65535")
        doc.line(2, "address: \(listener.address)", "IPv4, IPv6 or a host name; 0.0.0.0 is every IPv4 address")
        doc.line(
            2,
            "protocol: \(listener.protocol)",
            ListenerConfig.ListenerProtocol.allCases.map(\.rawValue).joined(separator: ", ")
        )
        doc.line(2, "# name: \(listener.name)", "default: address:port; unique")
        doc.line(2, "# default_cluster: \(cluster.name)", "for requests no route matches; without it, 404")
        doc.line(2, "# proxy_protocol: accept", "off by default; http and tcp: read a PROXY v1/v2 header")
        doc.line(2, "# trusted: [10.0.0.0/8]", "required with accept; other sources are closed")
        doc.line(
            2,
            "# idle_timeout: \(d(ListenerConfig.defaultIdleTimeout(for: .tcp)))",
            "tcp and udp: close after this long without bytes; udp's default is "
                + d(ListenerConfig.defaultIdleTimeout(for: .udp))
        )
        doc.line(2, "# max_sessions: \(ListenerConfig.defaultMaxSessions)", "udp: the most client flows at once")
        doc.line(
            2,
            "# max_connections: 10000",
            "tcp: the most connections at once, more wait; default: what the open-files limit allows"
        )
        doc.line(
            2,
            "# access_log: combined",
            "http: one line per request, "
                + ListenerConfig.AccessLogStyle.allCases.map(\.rawValue).joined(separator: " or ") + "; off by default"
        )
        doc.blank()
        doc.line(0, "routes:", "evaluated in order; the first that matches wins")
        doc.line(1, "- cluster: \(cluster.name)", "required: cluster, or split")
        doc.line(2, "# name: api", "optional; unique")
        doc.line(2, "match: {}", "every condition given must hold; none matches every request")
        doc.line(2, "# match:")
        doc.line(2, "#   host: api.example.com", "exact, or a wildcard such as *.example.com")
        doc.line(2, "#   path: { prefix: /api }", "or { exact: /x } or { regex: \"^/v[0-9]+/\" }")
        doc.line(2, "#   headers: [ { name: X-Env, exact: staging } ]", "also prefix, regex, present: true|false")
        doc.line(2, "#   query: [ { name: variant, exact: b } ]")
        doc.line(2, "#   cookies: [ { name: beta, exact: \"1\" } ]")
        doc.line(
            2,
            "#   jwt: { claim: tenant, exact: acme, header: \(JWTMatch.defaultHeader) }",
            "a bearer token's claim"
        )
        doc.line(2, "#        jwt also takes verification: { hs256_secret: \"...\", rs256_public_key_file: key.pem }")
        doc.line(2, "#        (off by default: claims are matched without checking the signature; with it, a")
        doc.line(2, "#        forged, expired or unsigned token whose claim matches gets 401; a request without")
        doc.line(2, "#        a token does not match and goes on to later routes, so put none after a protected one)")
        doc.line(2, "# split: [ { cluster: a, weight: 90 }, { cluster: b, weight: 10 } ]", "instead of cluster")
        doc.line(2, "# split_key: cookie:sid", "sticky splits: \(RequestKey.syntax)")
        doc.line(2, "headers:")
        doc.line(3, "forwarded: \(headers.forwarded)", "add an RFC 7239 Forwarded header")
        doc.line(3, "x_forwarded_for: \(headers.xForwardedFor)", "append the client address to X-Forwarded-For")
        doc.line(3, "request_id: \(headers.requestID)", "add X-Request-Id when the request has none")
        doc.line(3, "preserve_host: \(headers.preserveHost)", "send the client's Host header to the backend")
        doc.blank()
        doc.line(0, "clusters:", "at least one")
        doc.line(1, "\(cluster.name):", "the cluster's name")
        doc.line(2, "algorithm: \(cluster.algorithm.name)", BalancingAlgorithm.acceptedNames)
        doc.line(2, "# hash_key: header:X-User", "required with hash: \(ConfigReader.clusterHashKeySyntax)")
        doc.line(
            2,
            "# hash_method: \(ClusterConfig.defaultHashMethod)",
            "the default with hash: \(ClusterConfig.hashMethods.map(\.rawValue).joined(separator: ", "))"
        )
        doc.line(2, "# hash_bound: 1.25", "with hash: bounded loads, 1 to 100; off by default")
        doc.line(2, "backends:", "required: at least one, with a weight above 0")
        doc.line(3, "- address: \(backend.address)", "required: host:port, or [v6]:port")
        doc.line(4, "weight: \(backend.weight)", "0 to \(Backend.maxWeight); 0 takes only sticky traffic")
        doc.line(4, "backup: \(backend.backup)", "used only when no primary can take traffic")
        doc.line(4, "# name: \(backend.name)", "default: the address; unique in the cluster")
        doc.line(4, "# max_in_flight: 100", "default: no limit")
        doc.line(4, "# health_check: { port: 9100 }", "this backend's own: overrides the cluster's keys")
        doc.line(2, "timeouts:")
        doc.line(3, "connect: \(d(cluster.timeouts.connect))", "to open a connection to a backend")
        doc.line(3, "first_byte: \(d(cluster.timeouts.firstByte))", "from the request to the response's first byte")
        doc.line(3, "idle: \(d(cluster.timeouts.idle))", "an idle pooled backend connection is closed")
        doc.line(3, "# per_try: 1s", "off by default; an attempt with no response byte by then is retried elsewhere")
        doc.line(
            2,
            "retries: \(cluster.retries)",
            "on another backend; \(ClusterConfig.retriesRange.lowerBound) to \(ClusterConfig.retriesRange.upperBound)"
        )
        doc.line(
            2,
            "retry_budget_percent: \(n(cluster.retryBudgetPercent))",
            "under sustained failure, retries add at most this share of requests (plus 10 a second); bursts of up to 100 per event loop pass"
        )
        doc.line(
            2,
            "panic_threshold_percent: \(n(cluster.panicThresholdPercent))",
            "below this share healthy, use all; 0 is off"
        )
        doc.line(2, "slow_start:")
        doc.line(3, "window: \(d(cluster.slowStart.window))", "weight ramp for backends that come up; 0s is off")
        doc.line(3, "aggression: \(n(cluster.slowStart.aggression))", "the ramp's curve; 1 is linear")
        doc.line(3, "min_weight_percent: \(n(cluster.slowStart.minWeightPercent))", "the ramp's starting share")
        doc.line(2, "outlier_detection:", "passive ejection, as Envoy's")
        doc.line(
            3,
            "consecutive_gateway_failures: \(cluster.outlierDetection.consecutiveGatewayFailures)",
            "502, 503, 504 or connect failures in a row; 0 is off"
        )
        doc.line(
            3,
            "base_ejection_time: \(d(cluster.outlierDetection.baseEjectionTime))",
            "the k-th ejection lasts k times this"
        )
        doc.line(3, "max_ejection_time: \(d(cluster.outlierDetection.maxEjectionTime))", "the longest ejection")
        doc.line(
            3,
            "max_ejection_percent: \(cluster.outlierDetection.maxEjectionPercent)",
            "the most of the cluster ejected at once"
        )
        doc.line(
            2,
            "proxy_protocol: \(cluster.proxyProtocol)",
            "send a PROXY header to backends: "
                + ClusterConfig.ProxyProtocolSend.allCases.map(\.rawValue).joined(separator: ", ")
        )
        doc.line(2, "# health_check:", "active checks; off by default")
        doc.line(
            2,
            "#   type: \(check.type.rawValue)",
            HealthCheckConfig.CheckType.allCases.map(\.rawValue).joined(separator: ", ")
        )
        doc.line(2, "#   method: \(check.method)", "http, application: \(HealthCheckConfig.methods.joined(separator: ", "))")
        doc.line(2, "#   path: \(check.path)", "http, application")
        doc.line(2, "#   # host: api.example.com", "the Host header; default: the backend's address")
        doc.line(2, "#   expect_status: \(check.expectStatus)", "codes and ranges, such as [200, 204, \"300-399\"]")
        doc.line(2, "#   # expect_body: ok", "text the body must contain")
        doc.line(2, "#   # expect_body_regex: \"^ok\"", "a regular expression the body must match")
        doc.line(2, "#   # required: [db, cache]", "application: dependencies whose failure fails the check")
        doc.line(
            2,
            "#   # warn_weight_percent: \(n(check.warnWeightPercent))",
            "application: the weight kept while status is warn"
        )
        doc.line(2, "#   # send: \"PING\\r\\n\"", "tcp: bytes to send after connecting; agent: agent-send")
        doc.line(2, "#   # expect: \"+PONG\"", "tcp: text the reply must contain")
        doc.line(2, "#   # port: 9999", "check this port, not the backend's; required with agent")
        doc.line(2, "#   interval: \(d(check.interval))", "between checks of a steady backend")
        doc.line(2, "#   # fast_interval: 500ms", "while a state change is in progress; default: interval")
        doc.line(2, "#   # down_interval: 1s", "while down; default: interval")
        doc.line(2, "#   timeout: \(d(check.timeout))")
        doc.line(2, "#   jitter_percent: \(n(check.jitterPercent))", "each delay within ±this share of its interval")
        doc.line(2, "#   rise: \(check.rise)", "passed checks in a row that bring a backend up")
        doc.line(2, "#   fall: \(check.fall)", "failed checks in a row that take a backend down")
        doc.line(
            2,
            "#   initial: \(check.initial.rawValue)",
            "up, down, or first_check: down until the first check decides"
        )
        doc.blank()
        doc.line(0, "timeouts:", "the client side of every listener")
        doc.line(1, "client_header: \(d(client.clientHeader))", "to receive a request's headers")
        doc.line(1, "client_idle: \(d(client.clientIdle))", "an idle keep-alive client connection is closed")
        doc.line(1, "drain: \(d(client.drain))", "on shutdown, for requests in flight to finish; 0s closes at once")
        return doc.text
    }
}

/// Lines of YAML with aligned end-of-line comments.
private struct DocumentBuilder {
    private(set) var text = ""
    private let commentColumn = 42

    mutating func comment(_ comment: String) { text += "# \(comment)\n" }

    mutating func blank() { text += "\n" }

    mutating func line(_ level: Int, _ content: String, _ comment: String? = nil) {
        var line = String(repeating: "  ", count: level) + content
        if let comment {
            line += String(repeating: " ", count: max(1, commentColumn - line.count)) + "# " + comment
        }
        text += line + "\n"
    }
}
