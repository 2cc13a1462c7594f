import FulcrumConfig
import FulcrumCore
import FulcrumHashing

/// A compiled weighted split: the arms' cumulative weights, and the key that
/// makes it sticky.
///
/// Each request draws a point in `0..<total` and goes to the first arm whose
/// cumulative weight exceeds it, so an arm of weight w gets w / total of the
/// points (an arm of weight 0 gets none).
/// - Without a key, the point is drawn from the caller's `FastRandom` (one
///   per event loop in the proxy, seeded in tests).
/// - With a key, the point is the key's value hashed with XXH64 (seeded with
///   ``hashSeed``) and mapped onto `0..<total` by Lemire's multiply-shift, so
///   one client always lands on the same arm and distinct clients split in the
///   configured ratio. A request without the key's value (no such header,
///   cookie or parameter, an empty value, or no client address) falls back
///   to the random draw, as Envoy's hash policies fall back to random.
struct SplitTarget: Sendable {
    let clusters: [String]
    /// Ascending; the last is the total, above 0.
    let cumulative: [UInt64]
    let key: RequestKey?

    /// A fixed seed unlike the clusters' `hash` one (0), so that a split and a
    /// cluster that hash the same key choose independently: otherwise the
    /// 10% of keys a split sends to a canary would be the 10% with the lowest
    /// hashes, and could crowd onto the same few backends there.
    static let hashSeed: UInt64 = 0x5EED_0F_5B1D

    init(_ arms: [WeightedCluster], key: RequestKey?, what: @autoclosure () -> String) throws(RouterError) {
        var running: UInt64 = 0
        var cumulative: [UInt64] = []
        for arm in arms {
            guard arm.weight >= 0 else {
                throw RouterError(
                    code: .invalidTarget,
                    message: "\(what()): split weight \(arm.weight) for '\(arm.cluster)'; weights are 0 or more"
                )
            }
            running += UInt64(arm.weight)
            cumulative.append(running)
        }
        guard running > 0 else {
            throw RouterError(
                code: .invalidTarget,
                message: "\(what()): a split needs at least one arm with a weight above 0"
            )
        }
        self.clusters = arms.map(\.cluster)
        self.cumulative = cumulative
        self.key = key
    }

    var total: UInt64 { cumulative[cumulative.count - 1] }

    /// - Complexity: O(arms) plus hashing the key's value; no allocation
    ///   beyond what reading a cookie or decoding a query value needs.
    func pick(_ request: RouteRequest, random: inout FastRandom) -> String {
        let point: UInt64
        if let hash = keyHash(request) {
            point = hash.multipliedFullWidth(by: total).high
        } else {
            point = UInt64(random.below(Int(total)))
        }
        return cluster(at: point)
    }

    /// The arm that owns `point` in `0..<total`.
    func cluster(at point: UInt64) -> String {
        for (index, bound) in cumulative.enumerated() where point < bound {
            return clusters[index]
        }
        return clusters[clusters.count - 1]
    }

    /// The hash of the request's key value, or `nil` when it has none.
    func keyHash(_ request: RouteRequest) -> UInt64? {
        switch key {
        case nil:
            return nil
        case .header(let name):
            return request.header(name).flatMap { Self.hash($0[...]) }
        case .cookie(let name):
            return CookieHeader.value(named: name, in: request.header("Cookie")).flatMap(Self.hash)
        case .query(let name):
            return QueryString.value(named: name, in: request.query).flatMap(Self.hash)
        case .clientIP:
            return request.clientAddress?.withBytes { XXHash64.hash($0, seed: Self.hashSeed) }
        case .path:
            return Self.hash(request.path[...])
        }
    }

    static func hash(_ value: Substring) -> UInt64? {
        guard !value.isEmpty else { return nil }
        var value = value
        return value.withUTF8 { XXHash64.hash(UnsafeRawBufferPointer($0), seed: hashSeed) }
    }
}
