/// What one pick knows about its request or connection.
///
/// A context lives on the stack for one pick (and the retries of the same
/// request); it holds no references, so building one costs nothing.
public struct PickContext {
    /// The client's address, for `ip-hash`.
    public var client: ClientAddress?
    /// The request's hash key bytes (a header, cookie or query value) for
    /// `hash`. Only valid for the duration of the pick.
    public var hashKey: UnsafeRawBufferPointer?
    /// A backend this request is pinned to (a sticky cookie), tried first.
    public var pinned: Int?
    /// Backends this request already tried; retries go elsewhere.
    public var tried = TriedBackends()
    /// The picker's random source: one per event loop, never shared.
    public var random: FastRandom
    /// The time of the pick.
    public var now: Instant
    /// A rotation counter owned by the caller's event loop, set by
    /// ``SnapshotReader``; `nil` uses the cluster's shared counter.
    var localRotation: Int?

    public init(
        client: ClientAddress? = nil,
        hashKey: UnsafeRawBufferPointer? = nil,
        pinned: Int? = nil,
        random: FastRandom,
        now: Instant
    ) {
        self.client = client
        self.hashKey = hashKey
        self.pinned = pinned
        self.random = random
        self.now = now
    }
}

/// A client's IP address, stored inline.
public struct ClientAddress: Sendable, Hashable {
    /// IPv4 in the low 32 bits of `high` with `isIPv6` false; IPv6 in both words.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    /// An IPv4 address from its four octets in network order, e.g. 10.0.0.1 as (10, 0, 0, 1).
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        high = UInt64(a) << 24 | UInt64(b) << 16 | UInt64(c) << 8 | UInt64(d)
        low = 0
        isIPv6 = false
    }

    /// An IPv4 address as a host-order integer.
    public init(ipv4 value: UInt32) {
        high = UInt64(value)
        low = 0
        isIPv6 = false
    }

    /// An IPv6 address from its two 64-bit halves, most significant first.
    public init(ipv6High: UInt64, low: UInt64) {
        high = ipv6High
        self.low = low
        isIPv6 = true
    }

    /// The address with IPv4's last octet cleared, as nginx's `ip_hash` uses
    /// (clients of one /24 go to one backend); IPv6 is kept whole.
    public var withIPv4Prefix24: ClientAddress {
        isIPv6 ? self : ClientAddress(ipv4: UInt32(truncatingIfNeeded: high) & 0xFFFF_FF00)
    }

    /// Calls `body` with the address bytes in network order (4 or 16).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if isIPv6 {
            return try withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { try body($0) }
        }
        return try withUnsafeBytes(of: UInt32(truncatingIfNeeded: high).bigEndian) { try body($0) }
    }
}

/// The backends one request has tried, stored inline: retries are few.
public struct TriedBackends: Sendable {
    @usableFromInline var slots: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
    public private(set) var count = 0

    public init() {}

    /// Records a backend. Past eight, the oldest entries are forgotten.
    public mutating func insert(_ index: Int) {
        guard !contains(index) else { return }
        withUnsafeMutableBytes(of: &slots) { raw in
            raw.storeBytes(of: Int32(truncatingIfNeeded: index), toByteOffset: (count % 8) * 4, as: Int32.self)
        }
        count += 1
    }

    @inlinable
    public func contains(_ index: Int) -> Bool {
        guard count > 0 else { return false }
        return withUnsafeBytes(of: slots) { raw in
            for i in 0..<min(count, 8) where raw.load(fromByteOffset: i * 4, as: Int32.self) == Int32(truncatingIfNeeded: index) {
                return true
            }
            return false
        }
    }
}
