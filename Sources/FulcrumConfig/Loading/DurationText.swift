/// Durations as written in the configuration: a number and a unit, such as
/// `500ms`, `2s`, `1.5s`, `1m` or `1h`, or several together, such as `1m30s`.
package enum DurationText {
    static let syntax = "a duration such as 500ms, 2s, 1m or 1h30m"

    /// The duration, or `nil` when the text is not one.
    static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var scalars = Substring(text)
        guard !scalars.isEmpty else { return nil }
        var total = Duration.zero
        while !scalars.isEmpty {
            let number = scalars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            scalars = scalars.dropFirst(number.count)
            let unit = scalars.prefix { $0.isASCII && $0.isLetter }
            scalars = scalars.dropFirst(unit.count)
            let nanosecondsPerUnit: Double
            switch unit {
            case "ns": nanosecondsPerUnit = 1
            case "us", "µs": nanosecondsPerUnit = 1e3
            case "ms": nanosecondsPerUnit = 1e6
            case "s": nanosecondsPerUnit = 1e9
            case "m": nanosecondsPerUnit = 60e9
            case "h": nanosecondsPerUnit = 3600e9
            default: return nil
            }
            let nanoseconds = value * nanosecondsPerUnit
            // Beyond about 292 years Int64 nanoseconds overflow; nobody means that.
            guard nanoseconds < 9e18 else { return nil }
            total += .nanoseconds(Int64(nanoseconds.rounded()))
        }
        guard total < .seconds(9_000_000_000) else { return nil }
        return total
    }

    /// The shortest form `parse` reads back: `2s`, `500ms`, `5m`, `1h`, `0s`.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 {
            if seconds == 0 { return "0s" }
            if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0 && seconds > 60 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        if nanoseconds % 1_000 == 0 { return "\(nanoseconds / 1_000)us" }
        return "\(nanoseconds)ns"
    }
}
