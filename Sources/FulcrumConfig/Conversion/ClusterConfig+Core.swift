import FulcrumCore

extension ClusterConfig {
    /// The cluster's settings as FulcrumCore's working type. Health-check
    /// rise, fall and initial state carry over when checks are configured,
    /// per backend where a backend has its own check.
    public func makeSettings() -> ClusterSettings {
        var settings = ClusterSettings(algorithm: algorithm)
        settings.panicThresholdPercent = panicThresholdPercent
        settings.outlierDetection = outlierDetection
        settings.slowStart = slowStart
        settings.retryBudgetPercent = retryBudgetPercent
        if let healthCheck {
            settings.rise = healthCheck.rise
            settings.fall = healthCheck.fall
            settings.initialHealth = healthCheck.initial
        }
        for backend in backends {
            guard let own = backend.healthCheck else { continue }
            settings.backendHealth[backend.name] = own.thresholds
        }
        return settings
    }

    /// New ``Backend``s, with fresh counters, in configuration order.
    /// - Throws: ``CoreError`` only for values a loaded configuration cannot
    ///   hold (a weight out of range after editing the model by hand).
    public func makeBackends() throws(CoreError) -> [Backend] {
        var result: [Backend] = []
        result.reserveCapacity(backends.count)
        for backend in backends {
            result.append(
                try Backend(
                    id: backend.name,
                    address: backend.address,
                    weight: backend.weight,
                    isBackup: backend.backup,
                    maxInFlight: backend.maxInFlight
                )
            )
        }
        return result
    }
}

extension FulcrumConfiguration {
    /// The named cluster's settings as FulcrumCore's working type, or `nil`
    /// when there is no cluster of that name.
    public func makeClusterSettings(_ name: String) -> ClusterSettings? {
        cluster(named: name)?.makeSettings()
    }

    /// The named cluster's backends as FulcrumCore's working type.
    /// - Throws: ``CoreError`` with code `.invalidCluster` when there is no
    ///   cluster of that name.
    public func makeBackends(_ name: String) throws(CoreError) -> [Backend] {
        guard let cluster = cluster(named: name) else {
            throw CoreError(code: .invalidCluster, message: "there is no cluster named '\(name)'")
        }
        return try cluster.makeBackends()
    }
}
