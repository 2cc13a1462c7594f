import FulcrumCore
import FulcrumHashing
import Yams

extension ConfigReader {
    static let clusterKeys = [
        "algorithm", "hash_key", "hash_method", "hash_bound", "backends", "timeouts", "retries",
        "retry_budget_percent", "panic_threshold_percent", "slow_start", "outlier_detection", "health_check",
        "proxy_protocol",
    ]
    /// `hash_key` for clusters: the request keys, plus `ip_port` for L4.
    static let clusterHashKeySyntax = "header:NAME, cookie:NAME, query:NAME, ip, ip_port or path"
    static let backendKeys = ["address", "name", "weight", "backup", "max_in_flight", "health_check"]
    static let healthCheckKeys = [
        "type", "method", "path", "host", "expect_status", "expect_body", "expect_body_regex", "required",
        "warn_weight_percent", "send", "expect", "port", "interval", "fast_interval", "down_interval", "timeout",
        "jitter_percent", "rise", "fall", "initial",
    ]
    /// Which check types take each type-specific key.
    static let healthCheckKeyTypes: [String: [HealthCheckConfig.CheckType]] = [
        "method": [.http, .application], "path": [.http, .application], "host": [.http, .application],
        "expect_status": [.http, .application], "expect_body": [.http, .application],
        "expect_body_regex": [.http, .application], "required": [.application], "warn_weight_percent": [.application],
        "send": [.tcp, .agent], "expect": [.tcp], "port": [.http, .application, .tcp, .agent],
    ]
    static let algorithmNames = BalancingAlgorithm.acceptedNames.split(separator: ", ").map(String.init)

    /// The clusters, and their names for reference checks (`nil` when the
    /// section is missing or not a mapping).
    mutating func readClusters(_ root: Fields) -> ([ClusterConfig], [String]?) {
        let expected = "a mapping from cluster names to clusters"
        guard let entry = require(root, "clusters", expected: expected),
            let named = namedEntries(entry, expected: expected)
        else { return ([], nil) }
        guard !named.isEmpty else {
            invalid(entry, expected: "at least one cluster")
            return ([], [])
        }
        var clusters: [ClusterConfig] = []
        for (name, _, clusterEntry) in named {
            clusters.append(readCluster(name: name, clusterEntry))
        }
        return (clusters, named.map(\.name))
    }

    mutating func readCluster(name: String, _ entry: Entry) -> ClusterConfig {
        var cluster = ClusterConfig(name: name)
        guard
            let fields = fields(entry, keys: Self.clusterKeys, expected: "a cluster: a mapping with at least backends")
        else { return cluster }

        var algorithmName = "round-robin"
        if let e = fields["algorithm"], let name = choice(e, from: Self.algorithmNames) {
            algorithmName = name
            cluster.algorithm = BalancingAlgorithm(name: name)!
        }
        let algorithmValid = fields["algorithm"] == nil || BalancingAlgorithm(name: algorithmName) != nil

        // The hash settings belong to `hash` alone.
        var method = ClusterConfig.defaultHashMethod
        var bound: Double?
        var methodEntry: Entry?
        if algorithmName == "hash" {
            if let e = require(fields, "hash_key", expected: "\(Self.clusterHashKeySyntax), with algorithm hash") {
                if case .scalar(let scalar) = e.node, scalar.string == "ip_port" {
                    cluster.hashKey = .clientIP
                    cluster.hashIncludesClientPort = true
                } else {
                    cluster.hashKey = requestKey(e)
                }
            }
            if let e = fields["hash_method"], let name = choice(e, from: ClusterConfig.hashMethods.map(\.rawValue)) {
                method = HashAlgorithm(rawValue: name)!
                methodEntry = e
            }
            if let e = fields["hash_bound"] {
                bound = number(e, in: 1...100, expected: "a load bound from 1 to 100, such as 1.25")
            }
            cluster.algorithm = .hash(method: method, bound: bound)
        } else if algorithmValid {
            for key in ["hash_key", "hash_method", "hash_bound"] {
                guard let e = fields[key] else { continue }
                report(
                    .conflict,
                    at: e.position,
                    e.path,
                    found: "\(key) with algorithm \(algorithmName)",
                    expected: "hash_key, hash_method and hash_bound only with algorithm hash"
                )
            }
        }

        // Read before the backends: their own checks start from it.
        if let e = fields["health_check"] { cluster.healthCheck = readHealthCheck(e, base: .defaults) }
        let backendsExpected = "a list of backends, each an address such as 10.0.0.1:8080 or a mapping with address"
        if let e = require(fields, "backends", expected: backendsExpected) {
            cluster.backends = readBackends(e, expected: backendsExpected, healthBase: cluster.healthCheck ?? .defaults)
            let weights = cluster.backends.map(\.weight)
            if !weights.isEmpty, weights.allSatisfy({ $0 == 0 }),
                list(e, expected: backendsExpected)?.count == weights.count
            {
                report(
                    .invalidValue,
                    at: e.position,
                    e.path,
                    found: "weights that sum to 0",
                    expected: "at least one backend with weight above 0 (weight 0 takes only sticky traffic)"
                )
            }
            if method == .jump, let methodEntry {
                let distinct = Set(weights.filter { $0 > 0 }).sorted()
                if distinct.count > 1 {
                    report(
                        .conflict,
                        at: methodEntry.position,
                        methodEntry.path,
                        found: "jump with unequal weights (\(distinct.map(String.init).joined(separator: ", ")))",
                        expected: "equal weights for jump, which gives every backend the same share; "
                            + "use ring, maglev or rendezvous for weights"
                    )
                }
            }
        }

        if let e = fields["timeouts"] { cluster.timeouts = readUpstreamTimeouts(e) }
        if let e = fields["retries"], let value = int(e, in: ClusterConfig.retriesRange) { cluster.retries = value }
        if let e = fields["retry_budget_percent"], let value = percent(e) { cluster.retryBudgetPercent = value }
        if let e = fields["panic_threshold_percent"], let value = percent(e) { cluster.panicThresholdPercent = value }
        if let e = fields["slow_start"] { cluster.slowStart = readSlowStart(e) }
        if let e = fields["outlier_detection"] { cluster.outlierDetection = readOutlierDetection(e) }
        if let e = fields["proxy_protocol"],
            let name = choice(e, from: ClusterConfig.ProxyProtocolSend.allCases.map(\.rawValue))
        {
            cluster.proxyProtocol = ClusterConfig.ProxyProtocolSend(rawValue: name)!
        }
        return cluster
    }

    mutating func readBackends(_ entry: Entry, expected: String, healthBase: HealthCheckConfig) -> [BackendConfig] {
        guard let items = list(entry, expected: expected) else { return [] }
        guard !items.isEmpty else {
            invalid(entry, expected: "at least one backend")
            return []
        }
        var backends: [BackendConfig] = []
        var names: [String: (ConfigPath, Position)] = [:]
        for item in items {
            var nameEntry = item
            let backend: BackendConfig?
            if case .scalar = item.node {
                backend = backendAddress(item).map { BackendConfig(address: $0) }
            } else if let fields = fields(item, keys: Self.backendKeys, expected: expected) {
                let addressEntry = require(fields, "address", expected: AddressText.backendSyntax)
                if let addressEntry { nameEntry = addressEntry }
                let address = addressEntry.flatMap { backendAddress($0) }
                var name: String?
                if let e = fields["name"] {
                    name = string(e, expected: "a backend name")
                    nameEntry = e
                }
                var weight = 1
                if let e = fields["weight"], let value = int(e, in: 0...Backend.maxWeight) { weight = value }
                var backup = false
                if let e = fields["backup"], let value = bool(e) { backup = value }
                var maxInFlight: Int?
                if let e = fields["max_in_flight"] { maxInFlight = int(e, in: 1...Int.max) }
                let healthCheck = fields["health_check"].flatMap { readHealthCheck($0, base: healthBase) }
                backend = address.map {
                    BackendConfig(
                        name: name,
                        address: $0,
                        weight: weight,
                        backup: backup,
                        maxInFlight: maxInFlight,
                        healthCheck: healthCheck
                    )
                }
            } else {
                backend = nil
            }
            guard let backend else { continue }
            if let (path, position) = names[backend.name] {
                report(
                    .duplicate,
                    at: nameEntry.position,
                    nameEntry.path,
                    found: "the backend name '\(backend.name)' again",
                    expected:
                        "a name no other backend in the cluster has (\(path) at \(position.short) has it); "
                        + "a backend without a name is named by its address"
                )
            } else {
                names[backend.name] = (nameEntry.path, nameEntry.position)
            }
            backends.append(backend)
        }
        return backends
    }

    mutating func backendAddress(_ entry: Entry) -> BackendAddress? {
        guard let text = string(entry, expected: AddressText.backendSyntax) else { return nil }
        switch AddressText.backendAddress(text) {
        case .success(let address):
            return address
        case .failure(let error):
            invalid(entry, expected: AddressText.backendSyntax, hint: error.hint)
            return nil
        }
    }

    mutating func readUpstreamTimeouts(_ entry: Entry) -> UpstreamTimeouts {
        var timeouts = UpstreamTimeouts.defaults
        guard let fields = fields(entry, keys: ["connect", "first_byte", "idle", "per_try"], expected: "a mapping of timeouts")
        else {
            return timeouts
        }
        if let e = fields["connect"], let value = duration(e) { timeouts.connect = value }
        if let e = fields["first_byte"], let value = duration(e) { timeouts.firstByte = value }
        if let e = fields["idle"], let value = duration(e) { timeouts.idle = value }
        if let e = fields["per_try"], let value = duration(e) { timeouts.perTry = value }
        return timeouts
    }

    mutating func readSlowStart(_ entry: Entry) -> SlowStartSettings {
        var settings = SlowStartSettings.defaults
        guard
            let fields = fields(
                entry,
                keys: ["window", "aggression", "min_weight_percent"],
                expected: "a mapping of slow-start settings"
            )
        else { return settings }
        if let e = fields["window"], let value = duration(e, allowZero: true) { settings.window = value }
        if let e = fields["aggression"],
            let value = number(e, in: 0...1000, expected: "a number above 0 and at most 1000 (1 is linear)")
        {
            if value > 0 {
                settings.aggression = value
            } else {
                invalid(e, expected: "a number above 0 and at most 1000 (1 is linear)")
            }
        }
        if let e = fields["min_weight_percent"], let value = percent(e) { settings.minWeightPercent = value }
        return settings
    }

    mutating func readOutlierDetection(_ entry: Entry) -> OutlierDetectionSettings {
        var settings = OutlierDetectionSettings.defaults
        guard
            let fields = fields(
                entry,
                keys: [
                    "consecutive_gateway_failures", "base_ejection_time", "max_ejection_time", "max_ejection_percent",
                ],
                expected: "a mapping of outlier-detection settings"
            )
        else { return settings }
        if let e = fields["consecutive_gateway_failures"],
            let value = int(e, in: 0...Int.max, expected: "a whole number, 0 or more (0 turns ejection off)")
        {
            settings.consecutiveGatewayFailures = value
        }
        if let e = fields["base_ejection_time"], let value = duration(e) { settings.baseEjectionTime = value }
        if let e = fields["max_ejection_time"], let value = duration(e) { settings.maxEjectionTime = value }
        if let e = fields["max_ejection_percent"],
            let value = int(e, in: 0...100, expected: "a whole-number percentage from 0 to 100")
        {
            settings.maxEjectionPercent = value
        }
        return settings
    }

    /// A `health_check` mapping: the keys it sets, over `base` (the defaults
    /// for a cluster's, the cluster's for a backend's own).
    mutating func readHealthCheck(_ entry: Entry, base: HealthCheckConfig) -> HealthCheckConfig? {
        var check = base
        guard let fields = fields(entry, keys: Self.healthCheckKeys, expected: "a mapping of health-check settings")
        else { return nil }
        if let e = fields["type"], let name = choice(e, from: HealthCheckConfig.CheckType.allCases.map(\.rawValue)) {
            check.type = HealthCheckConfig.CheckType(rawValue: name)!
        }
        for (key, types) in Self.healthCheckKeyTypes.sorted(by: { $0.key < $1.key }) {
            guard let e = fields[key], !types.contains(check.type) else { continue }
            report(
                .conflict,
                at: e.position,
                e.path,
                found: "\(key) with type \(check.type.rawValue)",
                expected: "\(key) only with type \(types.map(\.rawValue).joined(separator: " or "))"
            )
        }
        if let e = fields["method"], let method = choice(e, from: HealthCheckConfig.methods) { check.method = method }
        if let e = fields["path"], let path = string(e, expected: "a path starting with /") {
            if path.hasPrefix("/") {
                check.path = path
            } else {
                invalid(e, expected: "a path starting with /")
            }
        }
        if let e = fields["host"], let host = string(e, expected: "a host name for the Host header") {
            check.host = host
        }
        if let e = fields["expect_status"], let statuses = statusSet(e) { check.expectStatus = statuses }
        if let e = fields["expect_body"], let text = string(e, expected: "text the body must contain") {
            check.expectBody = text
        }
        if let e = fields["expect_body_regex"], let pattern = regex(e) { check.expectBodyRegex = pattern }
        if let e = fields["required"], let items = list(e, expected: "a list of dependency names, such as [db, cache]") {
            check.required = items.compactMap { string($0, expected: "a dependency name, such as db or db:connection") }
        }
        if let e = fields["warn_weight_percent"], let value = percent(e) { check.warnWeightPercent = value }
        if let e = fields["send"], let text = string(e, expected: "text to send, such as \"PING\\r\\n\"") {
            check.send = text
        }
        if let e = fields["expect"], let text = string(e, expected: "text the reply must contain") { check.expect = text }
        if let e = fields["port"], let port = int(e, in: 1...65535) { check.port = port }
        if let e = fields["interval"], let value = duration(e) { check.interval = value }
        if let e = fields["fast_interval"], let value = duration(e) { check.fastInterval = value }
        if let e = fields["down_interval"], let value = duration(e) { check.downInterval = value }
        if let e = fields["timeout"], let value = duration(e) { check.timeout = value }
        if let e = fields["jitter_percent"],
            let value = number(e, in: 0...50, percent: true, expected: "a percentage from 0 to 50")
        {
            check.jitterPercent = value
        }
        if let e = fields["rise"], let value = int(e, in: HealthStateMachine.thresholdRange) { check.rise = value }
        if let e = fields["fall"], let value = int(e, in: HealthStateMachine.thresholdRange) { check.fall = value }
        if let e = fields["initial"], let name = choice(e, from: InitialHealth.allCases.map(\.rawValue)) {
            check.initial = InitialHealth(rawValue: name)!
        }
        if check.type == .agent && check.port == nil {
            report(
                .missingKey,
                at: fields.position,
                fields.path.key("port"),
                found: "nothing",
                expected: "the agent's port, 1 to 65535, with type agent (required)"
            )
        }
        return check
    }

    /// `200-399`, `204`, `"200,204,300-399"` or a list of codes and ranges.
    mutating func statusSet(_ entry: Entry) -> HTTPStatusSet? {
        var texts: [(Substring, Entry)] = []
        switch entry.node {
        case .scalar(let scalar):
            texts = scalar.string.split(separator: ",").map { ($0, entry) }
        case .sequence:
            for item in list(entry, expected: HTTPStatusSet.syntax) ?? [] {
                guard case .scalar(let scalar) = item.node else {
                    wrongType(item, expected: HTTPStatusSet.syntax)
                    return nil
                }
                texts.append((Substring(scalar.string), item))
            }
        default:
            wrongType(entry, expected: HTTPStatusSet.syntax)
            return nil
        }
        var ranges: [ClosedRange<Int>] = []
        for (text, item) in texts {
            guard let range = HTTPStatusSet.range(text) else {
                invalid(item, expected: HTTPStatusSet.syntax)
                return nil
            }
            ranges.append(range)
        }
        guard !ranges.isEmpty else {
            invalid(entry, expected: HTTPStatusSet.syntax)
            return nil
        }
        return HTTPStatusSet(ranges: ranges)
    }
}
