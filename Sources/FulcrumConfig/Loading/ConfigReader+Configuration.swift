import Yams

extension ConfigReader {
    static let rootKeys = ["listeners", "routes", "clusters", "timeouts"]

    /// The whole configuration. Problems are collected in ``diagnostics``;
    /// the result is only meaningful when there are none.
    mutating func read(_ root: Node?) -> FulcrumConfiguration {
        guard let root, !Self.isNull(root) else {
            report(
                .missingKey,
                at: .start,
                .root,
                found: "an empty file",
                expected: "a mapping with listeners and clusters"
            )
            return FulcrumConfiguration()
        }
        let entry = Entry(node: root, path: .root, position: Position(root.mark))
        guard
            let fields = fields(
                entry,
                keys: Self.rootKeys,
                expected: "a mapping with the keys \(Self.rootKeys.joined(separator: ", "))"
            )
        else { return FulcrumConfiguration() }

        // Clusters first, so that routes and listeners can be checked against their names.
        let (clusters, clusterNames) = readClusters(fields)
        var configuration = FulcrumConfiguration()
        configuration.clusters = clusters
        configuration.listeners = readListeners(
            fields,
            clusterNames: clusterNames,
            proxyProtocolSenders: clusters.filter { $0.proxyProtocol != .off }.map(\.name)
        )
        configuration.routes = fields["routes"].map { readRoutes($0, clusterNames: clusterNames) } ?? []
        if let timeouts = fields["timeouts"] {
            configuration.timeouts = readClientTimeouts(timeouts)
        }
        return configuration
    }

    /// Reports a reference to a cluster that is not defined. `known` is `nil`
    /// when the clusters could not be read at all, to avoid a cascade.
    mutating func checkCluster(_ name: String, at entry: Entry, known: [String]?) {
        guard let known, !known.contains(name) else { return }
        report(
            .unknownReference,
            at: entry.position,
            entry.path,
            found: "'\(name)'",
            expected: known.isEmpty
                ? "the name of a cluster defined under clusters (none is)"
                : "the name of a cluster defined under clusters: \(known.joined(separator: ", "))",
            hint: Suggestion.hint(for: name, in: known)
        )
    }

    // MARK: Global timeouts

    mutating func readClientTimeouts(_ entry: Entry) -> ClientTimeouts {
        var timeouts = ClientTimeouts.defaults
        guard
            let fields = fields(
                entry,
                keys: ["client_header", "client_idle", "drain"],
                expected: "a mapping of timeouts"
            )
        else { return timeouts }
        if let e = fields["client_header"], let value = duration(e) { timeouts.clientHeader = value }
        if let e = fields["client_idle"], let value = duration(e) { timeouts.clientIdle = value }
        if let e = fields["drain"], let value = duration(e, allowZero: true) { timeouts.drain = value }
        return timeouts
    }

    // MARK: Listeners

    static let listenerKeys = [
        "name", "address", "port", "protocol", "default_cluster", "proxy_protocol", "trusted", "idle_timeout",
        "max_connections", "max_sessions", "access_log",
    ]

    mutating func readListeners(
        _ root: Fields,
        clusterNames: [String]?,
        proxyProtocolSenders: [String] = []
    ) -> [ListenerConfig] {
        let expected = "a list of listeners, each with at least a port"
        guard let entry = require(root, "listeners", expected: expected), let items = list(entry, expected: expected)
        else { return [] }
        guard !items.isEmpty else {
            invalid(entry, expected: "at least one listener")
            return []
        }
        struct Bound {
            var listener: ListenerConfig
            var path: ConfigPath
            var position: Position
        }
        var listeners: [ListenerConfig] = []
        var bound: [Bound] = []
        var names: [String: (ConfigPath, Position, Bool)] = [:]
        for item in items {
            guard
                let fields = fields(
                    item,
                    keys: Self.listenerKeys,
                    expected: "a listener: a mapping with at least a port"
                )
            else { continue }
            var listener = ListenerConfig.defaults
            let port = require(fields, "port", expected: "a port, " + Self.wholeNumber(AddressText.portRange)).flatMap {
                int($0, in: AddressText.portRange)
            }
            listener.port = port ?? 0
            if let e = fields["address"], let text = string(e, expected: "an address") {
                if let address = AddressText.listenerAddress(text) {
                    listener.address = address
                } else {
                    invalid(
                        e,
                        expected: "an IPv4 or IPv6 address or a host name, such as 0.0.0.0, 127.0.0.1, :: or localhost"
                    )
                }
            }
            if let e = fields["protocol"],
                let name = choice(e, from: ListenerConfig.ListenerProtocol.allCases.map(\.rawValue))
            {
                listener.protocol = ListenerConfig.ListenerProtocol(rawValue: name)!
            }
            if let e = fields["default_cluster"], let name = string(e, expected: "a cluster name") {
                checkCluster(name, at: e, known: clusterNames)
                listener.defaultCluster = name
                if listener.protocol == .udp, proxyProtocolSenders.contains(name) {
                    report(
                        .conflict,
                        at: e.position,
                        e.path,
                        found: "the cluster '\(name)', which sends PROXY protocol headers, on a udp listener",
                        expected: "a cluster with proxy_protocol: off for udp listeners (flows carry no header)"
                    )
                }
            }
            readL4Settings(fields, into: &listener)
            if let e = fields["access_log"],
                let name = choice(e, from: ListenerConfig.AccessLogStyle.allCases.map(\.rawValue))
            {
                if listener.protocol == .http {
                    listener.accessLog = ListenerConfig.AccessLogStyle(rawValue: name)
                } else {
                    report(
                        .invalidValue,
                        at: e.position,
                        e.path,
                        found: "access_log on a \(listener.protocol) listener",
                        expected: "access_log only on http listeners (tcp and udp log one line per connection or flow)"
                    )
                }
            }
            listener.name = ListenerConfig.defaultName(address: listener.address, port: listener.port)
            var nameEntry = Entry(node: item.node, path: item.path, position: item.position)
            if let e = fields["name"], let name = string(e, expected: "a listener name") {
                listener.name = name
                nameEntry = e
            }
            // Default names repeat only for listeners on one address and port,
            // which the clash check reports (or which differ in transport).
            if port != nil || fields["name"] != nil {
                if let (firstPath, firstPosition, firstExplicit) = names[listener.name],
                    firstExplicit || fields["name"] != nil
                {
                    report(
                        .duplicate,
                        at: nameEntry.position,
                        nameEntry.path,
                        found: "the listener name '\(listener.name)' again",
                        expected:
                            "a name no other listener has (\(firstPath) at \(firstPosition.short) has it)"
                    )
                } else if names[listener.name] == nil {
                    names[listener.name] = (nameEntry.path, nameEntry.position, fields["name"] != nil)
                }
            }
            if let port, let portEntry = fields["port"] {
                let clash = bound.first { other in
                    other.listener.port == port && other.listener.protocol.transport == listener.protocol.transport
                        && (other.listener.isWildcard || listener.isWildcard
                            || other.listener.address == listener.address)
                }
                if let clash {
                    let mine = ListenerConfig.defaultName(address: listener.address, port: port)
                    let theirs = ListenerConfig.defaultName(address: clash.listener.address, port: port)
                    report(
                        .conflict,
                        at: portEntry.position,
                        portEntry.path,
                        found:
                            "\(mine), which clashes with \(clash.path) (\(theirs) at \(clash.position.short))",
                        expected: "each port on one listener per address; 0.0.0.0 and :: take the port on every address"
                    )
                } else {
                    bound.append(Bound(listener: listener, path: item.path, position: item.position))
                }
            }
            listeners.append(listener)
        }
        return listeners
    }
}
