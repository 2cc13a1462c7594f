import FulcrumCore

extension ConfigReader {
    static let proxyProtocolAcceptNames = ["accept", "off"]

    /// `proxy_protocol` with `trusted`, `idle_timeout`, `max_sessions` and
    /// `max_connections`:
    /// the settings that depend on the listener's protocol.
    mutating func readL4Settings(_ fields: Fields, into listener: inout ListenerConfig) {
        var accept = false
        if let e = fields["proxy_protocol"], let name = choice(e, from: Self.proxyProtocolAcceptNames) {
            accept = name == "accept"
            if accept && listener.protocol == .udp {
                report(
                    .conflict,
                    at: e.position,
                    e.path,
                    found: "proxy_protocol: accept on a udp listener",
                    expected: "proxy_protocol: accept only on http and tcp listeners (datagrams carry no header)"
                )
            }
        }
        if let e = fields["trusted"] {
            if !accept {
                report(
                    .conflict,
                    at: e.position,
                    e.path,
                    found: "trusted without proxy_protocol: accept",
                    expected: "trusted only with proxy_protocol: accept"
                )
            } else {
                listener.proxyProtocolTrusted = trustedNetworks(e)
            }
        } else if accept {
            report(
                .missingKey,
                at: fields.position,
                fields.path.key("trusted"),
                found: "nothing",
                expected: "a list of the networks allowed to send PROXY headers, such as [10.0.0.0/8] "
                    + "(required with proxy_protocol: accept; 0.0.0.0/0 trusts every IPv4 source)"
            )
        }
        if let e = fields["idle_timeout"] {
            if listener.protocol == .http {
                report(
                    .conflict,
                    at: e.position,
                    e.path,
                    found: "idle_timeout on an http listener",
                    expected: "idle_timeout on tcp and udp listeners; http uses timeouts.client_idle"
                )
            } else if let value = duration(e) {
                listener.idleTimeout = value
            }
        }
        if let value = protocolLimit(fields, "max_connections", only: .tcp, "tcp listeners (udp has max_sessions)", ListenerConfig.maxConnectionsRange, listener) {
            listener.maxConnections = value
        }
        if let value = protocolLimit(fields, "max_sessions", only: .udp, "udp listeners", ListenerConfig.maxSessionsRange, listener) {
            listener.maxSessions = value
        }
    }

    /// A whole-number `key` that only listeners of protocol `only` take.
    private mutating func protocolLimit(
        _ fields: Fields,
        _ key: String,
        only: ListenerConfig.ListenerProtocol,
        _ where: String,
        _ range: ClosedRange<Int>,
        _ listener: ListenerConfig
    ) -> Int? {
        guard let e = fields[key] else { return nil }
        guard listener.protocol == only else {
            report(
                .conflict,
                at: e.position,
                e.path,
                found: "\(key) with protocol \(listener.protocol)",
                expected: "\(key) only on \(`where`)"
            )
            return nil
        }
        return int(e, in: range)
    }

    mutating func trustedNetworks(_ entry: Entry) -> [IPNetwork]? {
        let expected = "a list of networks such as [10.0.0.0/8, 192.168.1.5, fd00::/8]"
        guard let items = list(entry, expected: expected) else { return nil }
        guard !items.isEmpty else {
            invalid(entry, expected: "at least one network, such as 10.0.0.0/8")
            return nil
        }
        var networks: [IPNetwork] = []
        for item in items {
            guard let text = string(item, expected: "a network such as 10.0.0.0/8") else { continue }
            switch IPNetwork.parse(text) {
            case .success(let network):
                networks.append(network)
            case .failure(.hostBitsSet(let suggestion)):
                invalid(
                    item,
                    expected: "a network address with its host bits zero",
                    hint: "did you mean \(suggestion)?"
                )
            case .failure(.badPrefix):
                invalid(item, expected: "a prefix length of 0 to 32 for IPv4 or 0 to 128 for IPv6, such as /24")
            case .failure(.notAnAddress):
                invalid(
                    item,
                    expected: "an IPv4 or IPv6 address with an optional /prefix, such as 10.0.0.0/8 or fd00::/8",
                    hint: "host names are not accepted: the check is on the connecting address"
                )
            }
        }
        return networks
    }
}
