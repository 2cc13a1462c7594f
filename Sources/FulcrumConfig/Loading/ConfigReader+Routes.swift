import Foundation
import Yams

extension ConfigReader {
    static let routeKeys = ["name", "match", "cluster", "split", "split_key", "headers"]
    static let matchKeys = ["host", "path", "headers", "query", "cookies", "jwt"]
    static let conditionKeys = ["exact", "prefix", "regex", "present"]

    mutating func readRoutes(_ entry: Entry, clusterNames: [String]?) -> [RouteConfig] {
        guard let items = list(entry, expected: "a list of routes") else { return [] }
        var routes: [RouteConfig] = []
        var names: [String: (ConfigPath, Position)] = [:]
        var catchAll: (ConfigPath, Position)?
        for item in items {
            let before = diagnostics.count
            guard let route = readRoute(item, clusterNames: clusterNames) else { continue }
            let clean = diagnostics.count == before
            if let name = route.name, let e = Self.fieldsEntry(item, "name") {
                if let (path, position) = names[name] {
                    report(
                        .duplicate,
                        at: e.position,
                        e.path,
                        found: "the route name '\(name)' again",
                        expected: "a name no other route has (\(path) at \(position.short) has it)"
                    )
                } else {
                    names[name] = (e.path, e.position)
                }
            }
            if let (path, position) = catchAll {
                report(
                    .conflict,
                    at: item.position,
                    item.path,
                    found: "a route that can never match: \(path) at \(position.short) has no match "
                        + "conditions and takes every request",
                    expected: "routes with no conditions last"
                )
            } else if clean, route.match.matchesEverything {
                catchAll = (item.path, item.position)
            }
            routes.append(route)
        }
        return routes
    }

    /// A key's entry in a mapping node, without reporting anything.
    static func fieldsEntry(_ entry: Entry, _ key: String) -> Entry? {
        guard case .mapping(let mapping) = entry.node else { return nil }
        for (k, v) in mapping where k.scalar?.string == key {
            return Entry(node: v, path: entry.path.key(key), position: Position(v.mark ?? k.mark))
        }
        return nil
    }

    mutating func readRoute(_ item: Entry, clusterNames: [String]?) -> RouteConfig? {
        guard
            let fields = fields(
                item,
                keys: Self.routeKeys,
                expected: "a route: a mapping with match and cluster or split"
            )
        else { return nil }
        var route = RouteConfig(target: .cluster(""))
        if let e = fields["name"], let name = string(e, expected: "a route name") { route.name = name }
        if let e = fields["match"], let match = readMatch(e) { route.match = match }

        switch (fields["cluster"], fields["split"]) {
        case (let cluster?, let split?):
            report(
                .conflict,
                at: min(cluster.position, split.position),
                item.path,
                found: "both cluster and split",
                expected: "either cluster (one cluster) or split (weighted clusters)"
            )
        case (let e?, nil):
            if let name = string(e, expected: "a cluster name") {
                checkCluster(name, at: e, known: clusterNames)
                route.target = .cluster(name)
            }
        case (nil, let e?):
            if let parts = readSplit(e, clusterNames: clusterNames) { route.target = .split(parts) }
        case (nil, nil):
            report(
                .missingKey,
                at: fields.position,
                item.path.key("cluster"),
                found: "nothing",
                expected: "cluster: NAME, or split: a list of { cluster, weight } (one is required)"
            )
        }

        if let e = fields["split_key"] {
            if fields["split"] == nil {
                report(
                    .conflict,
                    at: e.position,
                    e.path,
                    found: "split_key without split",
                    expected: "split_key only on a route with split"
                )
            } else {
                route.splitKey = requestKey(e)
            }
        }
        if let e = fields["headers"] { route.headers = readRouteHeaders(e) }
        return route
    }

    mutating func readSplit(_ entry: Entry, clusterNames: [String]?) -> [WeightedCluster]? {
        let expected = "a list of { cluster: NAME, weight: N }"
        guard let items = list(entry, expected: expected) else { return nil }
        guard !items.isEmpty else {
            invalid(entry, expected: "at least one { cluster: NAME, weight: N }")
            return nil
        }
        var parts: [WeightedCluster] = []
        var seen: [String: ConfigPath] = [:]
        var valid = true
        for item in items {
            guard let fields = fields(item, keys: ["cluster", "weight"], expected: "{ cluster: NAME, weight: N }")
            else {
                valid = false
                continue
            }
            let clusterEntry = require(fields, "cluster", expected: "a cluster name")
            let name = clusterEntry.flatMap { string($0, expected: "a cluster name") }
            let weight = require(fields, "weight", expected: Self.wholeNumber(WeightedCluster.weightRange)).flatMap {
                int($0, in: WeightedCluster.weightRange)
            }
            if let name, let clusterEntry {
                checkCluster(name, at: clusterEntry, known: clusterNames)
                if let first = seen[name] {
                    report(
                        .duplicate,
                        at: clusterEntry.position,
                        clusterEntry.path,
                        found: "the cluster '\(name)' again",
                        expected: "each cluster once in a split (\(first) has it)"
                    )
                } else {
                    seen[name] = clusterEntry.path
                }
            }
            guard let name, let weight else {
                valid = false
                continue
            }
            parts.append(WeightedCluster(cluster: name, weight: weight))
        }
        if valid, parts.allSatisfy({ $0.weight == 0 }) {
            report(
                .invalidValue,
                at: entry.position,
                entry.path,
                found: "weights that sum to 0",
                expected: "at least one weight above 0"
            )
        }
        return parts
    }

    mutating func requestKey(_ entry: Entry) -> RequestKey? {
        guard let text = string(entry, expected: RequestKey.syntax) else { return nil }
        switch RequestKey.parse(text) {
        case .success(let key):
            return key
        case .failure(let error):
            invalid(entry, expected: error.message)
            return nil
        }
    }

    mutating func readRouteHeaders(_ entry: Entry) -> RouteHeaders {
        var headers = RouteHeaders.defaults
        guard
            let fields = fields(
                entry,
                keys: ["forwarded", "x_forwarded_for", "request_id", "preserve_host"],
                expected: "a mapping of header settings"
            )
        else { return headers }
        if let e = fields["forwarded"], let value = bool(e) { headers.forwarded = value }
        if let e = fields["x_forwarded_for"], let value = bool(e) { headers.xForwardedFor = value }
        if let e = fields["request_id"], let value = bool(e) { headers.requestID = value }
        if let e = fields["preserve_host"], let value = bool(e) { headers.preserveHost = value }
        return headers
    }

    // MARK: Match

    mutating func readMatch(_ entry: Entry) -> RouteMatch? {
        guard let fields = fields(entry, keys: Self.matchKeys, expected: "a mapping of conditions") else { return nil }
        var match = RouteMatch()
        if let e = fields["host"] { match.host = readHost(e) }
        if let e = fields["path"] { match.path = readPath(e) }
        if let e = fields["headers"] { match.headers = readNamedMatches(e, kind: "header") }
        if let e = fields["query"] { match.query = readNamedMatches(e, kind: "query parameter") }
        if let e = fields["cookies"] { match.cookies = readNamedMatches(e, kind: "cookie") }
        if let e = fields["jwt"] { match.jwt = readJWT(e) }
        return match
    }

    mutating func readHost(_ entry: Entry) -> HostMatch? {
        let expected = "a host name such as api.example.com, or a wildcard such as *.example.com"
        guard let text = string(entry, expected: expected)?.lowercased() else { return nil }
        if text.hasPrefix("*.") {
            let suffix = text.dropFirst(2)
            if AddressText.isHostName(suffix) && !suffix.contains("*") { return .suffix(String(text.dropFirst())) }
        } else if !text.contains("*") {
            if AddressText.isHostName(text) || AddressText.isIPv4(text) { return .exact(text) }
            if text.hasPrefix("["), text.hasSuffix("]"), AddressText.isIPv6(text.dropFirst().dropLast()) {
                return .exact(text)
            }
        }
        let hasPort = text.contains(":") && !text.hasPrefix("[")
        invalid(entry, expected: expected, hint: hasPort ? "the port is not part of the host match" : nil)
        return nil
    }

    mutating func readPath(_ entry: Entry) -> PathMatch? {
        let expected = "a mapping with one of prefix, exact or regex, such as { prefix: /api }"
        guard let fields = fields(entry, keys: ["prefix", "exact", "regex"], expected: expected) else { return nil }
        let given = ["prefix", "exact", "regex"].filter { fields[$0] != nil }
        guard given.count == 1, let key = given.first, let e = fields[key] else {
            if given.isEmpty {
                report(
                    .missingKey,
                    at: fields.position,
                    entry.path,
                    found: "no condition",
                    expected: "one of prefix, exact or regex"
                )
            } else {
                report(
                    .conflict,
                    at: fields.position,
                    entry.path,
                    found: given.joined(separator: " and "),
                    expected: "exactly one of prefix, exact or regex"
                )
            }
            return nil
        }
        switch key {
        case "regex":
            return regex(e).map(PathMatch.regex)
        default:
            guard let path = string(e, expected: "a path starting with /") else { return nil }
            guard path.hasPrefix("/") else {
                invalid(e, expected: "a path starting with /")
                return nil
            }
            return key == "prefix" ? .prefix(path) : .exact(path)
        }
    }

    /// The single condition among exact, prefix, regex and present.
    mutating func readValueMatch(_ fields: Fields, at entry: Entry) -> ValueMatch? {
        let given = Self.conditionKeys.filter { fields[$0] != nil }
        guard given.count == 1, let key = given.first, let e = fields[key] else {
            if given.isEmpty {
                report(
                    .missingKey,
                    at: fields.position,
                    entry.path,
                    found: "no condition",
                    expected: "one of exact, prefix, regex or present"
                )
            } else {
                report(
                    .conflict,
                    at: fields.position,
                    entry.path,
                    found: given.joined(separator: " and "),
                    expected: "exactly one of exact, prefix, regex or present"
                )
            }
            return nil
        }
        switch key {
        case "present": return bool(e).map(ValueMatch.present)
        case "regex": return regex(e).map(ValueMatch.regex)
        default:
            // An empty value is a legitimate thing to compare with.
            guard case .scalar(let scalar) = e.node else {
                wrongType(e, expected: "a string")
                return nil
            }
            return key == "exact" ? .exact(scalar.string) : .prefix(scalar.string)
        }
    }

    mutating func readNamedMatches(_ entry: Entry, kind: String) -> [NamedMatch] {
        guard let items = list(entry, expected: "a list of { name: NAME, exact: VALUE } (or prefix, regex, present)")
        else { return [] }
        var matches: [NamedMatch] = []
        for item in items {
            guard
                let fields = fields(
                    item,
                    keys: ["name"] + Self.conditionKeys,
                    expected: "{ name: NAME, exact: VALUE } (or prefix, regex, present)"
                )
            else { continue }
            var name: String?
            if let e = require(fields, "name", expected: "a \(kind) name"),
                let text = string(e, expected: "a \(kind) name")
            {
                if kind == "query parameter" || HTTPToken.isToken(text) {
                    name = text
                } else {
                    invalid(e, expected: "a \(kind) name of letters, digits and !#$%&'*+-.^_`|~")
                }
            }
            let value = readValueMatch(fields, at: item)
            if let name, let value { matches.append(NamedMatch(name: name, value: value)) }
        }
        return matches
    }

    mutating func readJWT(_ entry: Entry) -> JWTMatch? {
        guard
            let fields = fields(
                entry,
                keys: ["claim", "header", "verification"] + Self.conditionKeys,
                expected: "{ claim: NAME, exact: VALUE } with optional header and verification"
            )
        else { return nil }
        let claim = require(fields, "claim", expected: "a claim name, such as tenant").flatMap {
            string($0, expected: "a claim name")
        }
        let value = readValueMatch(fields, at: entry)
        var header = JWTMatch.defaultHeader
        if let e = fields["header"], let text = string(e, expected: "a header name") {
            if HTTPToken.isToken(text) {
                header = text
            } else {
                invalid(e, expected: "a header name of letters, digits and !#$%&'*+-.^_`|~")
            }
        }
        var verification: JWTVerification?
        if let e = fields["verification"] { verification = readVerification(e) }
        guard let claim, let value else { return nil }
        return JWTMatch(claim: claim, value: value, header: header, verification: verification)
    }

    mutating func readVerification(_ entry: Entry) -> JWTVerification? {
        let keys = ["hs256_secret", "rs256_public_key_file"]
        guard let fields = fields(entry, keys: keys, expected: "a mapping with hs256_secret or rs256_public_key_file")
        else {
            return nil
        }
        var verification = JWTVerification()
        if let e = fields["hs256_secret"], let secret = string(e, expected: "a shared secret") {
            // RFC 7518 §3.2: at least as long as the hash; a short secret
            // can be guessed offline from any one token.
            if secret.utf8.count >= 32 {
                verification.hs256Secret = secret
            } else {
                invalid(e, expected: "a shared secret of at least 32 bytes (RFC 7518 §3.2)", hint: "it has \(secret.utf8.count)")
            }
        }
        if let e = fields["rs256_public_key_file"], let path = string(e, expected: "the path of a PEM public key") {
            let resolved = path.hasPrefix("/") ? path : directory + "/" + path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue {
                if let text = try? String(contentsOfFile: resolved, encoding: .utf8),
                    text.contains("-----BEGIN PUBLIC KEY-----") || text.contains("-----BEGIN RSA PUBLIC KEY-----")
                {
                    verification.rs256PublicKeyFile = path
                    verification.rs256PublicKeyPEM = text
                } else {
                    invalid(
                        e,
                        expected: "the path of a readable PEM public key file",
                        hint: "\(resolved) holds no PEM public key (BEGIN PUBLIC KEY)"
                    )
                }
            } else {
                invalid(
                    e,
                    expected: "the path of a readable PEM public key file",
                    hint: path.hasPrefix("/") ? "no such file" : "no such file at \(resolved)"
                )
            }
        }
        if fields["hs256_secret"] == nil && fields["rs256_public_key_file"] == nil {
            report(
                .missingKey,
                at: fields.position,
                entry.path,
                found: "no key",
                expected: "hs256_secret, rs256_public_key_file or both"
            )
        }
        return verification.hs256Secret == nil && verification.rs256PublicKeyFile == nil ? nil : verification
    }
}
