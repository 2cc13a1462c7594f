extension ClusterConfig {
    /// One line that `fulcrum serve` logs per cluster at startup, so an
    /// operator can see at a glance how each cluster balances and how its
    /// backends are judged, such as
    /// `cluster=api round-robin, 3 backends (b1=1, b2=1, b3=1 backup); health: http GET /health every 2s (±10%), …`.
    public var startupSummary: String {
        let members = backends.map { "\($0.name)=\($0.weight)\($0.backup ? " backup" : "")" }
        var line =
            "cluster=\(name) \(algorithm.name), \(backends.count) backend\(backends.count == 1 ? "" : "s") "
            + "(\(members.joined(separator: ", ")))"
        line += "; health: " + (healthCheck?.summary ?? "no active checks")
        for backend in backends {
            guard let own = backend.healthCheck, own != healthCheck else { continue }
            line += "; \(backend.name): \(own.summary)"
        }
        let ejection =
            outlierDetection.isEnabled
            ? "after \(outlierDetection.consecutiveGatewayFailures) gateway failures in a row"
            : "off"
        return line + "; passive ejection \(ejection)"
    }
}
