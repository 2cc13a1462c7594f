/// The HTTP statuses an `http` or `application` check accepts, as ranges.
///
/// Written `200-399` (the default: HAProxy's and Envoy's idea of a passing
/// check is 2xx and 3xx), `200,204`, or a list of codes and ranges, so that
/// a service whose health page answers 204, or a 429 that means "alive but
/// shedding", can be accepted without accepting everything else.
public struct HTTPStatusSet: Sendable, Hashable, CustomStringConvertible {
    /// The accepted ranges, each within 100–599.
    public var ranges: [ClosedRange<Int>]

    /// 200–399.
    public static let defaults = HTTPStatusSet(ranges: [200...399])
    /// What the configuration accepts, for diagnostics.
    public static let syntax = "status codes from 100 to 599 and ranges, such as 200-399, or [200, 204, \"300-399\"]"

    public init(ranges: [ClosedRange<Int>]) { self.ranges = ranges }

    /// Whether `status` is accepted.
    public func contains(_ status: Int) -> Bool { ranges.contains { $0.contains(status) } }

    /// Parses one item: `200` or `200-299`; `nil` when it is neither or lies
    /// outside 100–599.
    public static func range(_ text: Substring) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            .map { $0.trimmingSpaces() }
        guard let low = Int(parts[0]) else { return nil }
        let high = parts.count == 2 ? Int(parts[1]) : low
        guard let high, 100 <= low, low <= high, high <= 599 else { return nil }
        return low...high
    }

    /// `200-399`, `200,204,300-399`.
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
