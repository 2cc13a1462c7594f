import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumProxy
import Testing

/// Clusters every routing test configuration declares.
let routingClusterNames = ["a", "b", "c", "fallback", "stable", "canary"]

/// A configuration with `routes` (YAML list items, indented by two spaces)
/// and the clusters above, loaded through the real config loader.
func routingConfiguration(
    _ routes: String,
    defaultCluster: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> FulcrumConfiguration {
    var yaml = "listeners:\n  - port: 8080\n"
    if let defaultCluster { yaml += "    default_cluster: \(defaultCluster)\n" }
    yaml += "routes:\n" + routes + "\n"
    yaml += "clusters:\n"
    for (index, name) in routingClusterNames.enumerated() {
        yaml += "  \(name):\n    backends:\n      - address: 127.0.0.1:\(9001 + index)\n"
    }
    return try ConfigLoader.parse(yaml: yaml, file: "routing-test.yaml")
}

/// The router for the configuration's only listener.
func makeRouter(_ routes: String, defaultCluster: String? = nil) throws -> Router {
    let configuration = try routingConfiguration(routes, defaultCluster: defaultCluster)
    return try Router(configuration: configuration, listener: configuration.listeners[0])
}

extension Router {
    /// The decision for a request, with a fixed seed (these requests do not split).
    func decide(_ request: RouteRequest) -> RouteDecision {
        var random = FastRandom(seed: 1)
        return route(request, random: &random)
    }

    /// The chosen cluster's name, or `nil` for no route.
    func cluster(_ request: RouteRequest) -> String? {
        if case .cluster(let name, _) = decide(request) { return name }
        return nil
    }

    /// The cluster for `GET target` with those headers.
    func cluster(
        _ target: String,
        host: String? = "example.com",
        headers: [(name: String, value: String)] = [],
        client: ClientAddress? = nil
    ) -> String? {
        cluster(RouteRequest(host: host, target: target, headers: headers, clientAddress: client))
    }
}

/// RFC 4648 §5 base64url without padding.
func base64URL(_ text: String) -> String {
    Data(text.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// An unsigned-looking JWT with that JSON payload (the signature is not checked).
func jwt(payload: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
    base64URL(header) + "." + base64URL(payload) + ".c2lnbmF0dXJl"
}

/// The Authorization header for a token.
func bearer(_ token: String) -> [(name: String, value: String)] {
    [("Authorization", "Bearer \(token)")]
}
