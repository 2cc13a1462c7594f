import FulcrumHashing

/// What `ring simulate` prints, as a table or as JSON.
struct Report {
    var algorithm: HashAlgorithm
    var before: Placement
    var after: Placement
    var change: Change?

    /// Keys whose node differs between `before` and `after`, as a fraction.
    var movedFraction: Double? {
        guard change != nil else { return nil }
        var moved = 0
        for k in before.assignment.indices where before.name(ofKey: k) != after.name(ofKey: k) {
            moved += 1
        }
        return Double(moved) / Double(before.assignment.count)
    }

    /// The keys any consistent scheme must move.
    var minimumMovedFraction: Double? {
        switch change {
        case .added(let name): after.distribution.entries.first { $0.name == name }?.share
        case .removed(let name): before.distribution.entries.first { $0.name == name }?.share
        case nil: nil
        }
    }

    func table(parameters: String) -> String {
        var lines = [parameters]
        if change != nil {
            lines.append("")
            lines.append("before:")
            lines += Self.rows(before.distribution)
            lines.append("")
            lines.append("after:")
        }
        lines += Self.rows(after.distribution)
        if let movedFraction, let minimumMovedFraction, let change {
            let what =
                switch change {
                case .added(let name): "adding \(name)"
                case .removed(let name): "removing \(name)"
                }
            lines.append("")
            lines.append(
                "\(what) moved \(Self.percent(movedFraction)) of keys; the minimum possible is "
                    + "\(Self.percent(minimumMovedFraction)) (\(Self.fixed(movedFraction / max(minimumMovedFraction, 1e-12), 2))× the minimum)"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func rows(_ distribution: KeyDistribution) -> [String] {
        let width = max(4, distribution.entries.map(\.name.count).max() ?? 0)
        var rows = [
            pad("node", width) + "  " + pad("weight", 6, right: true) + "  " + pad("keys", 10, right: true) + "  "
                + pad("share", 8, right: true) + "  " + pad("ideal", 8, right: true) + "  " + pad("load", 6, right: true)
        ]
        for entry in distribution.entries {
            rows.append(
                pad(entry.name, width) + "  " + pad(String(entry.weight), 6, right: true) + "  "
                    + pad(String(entry.keys), 10, right: true) + "  " + pad(percent(entry.share), 8, right: true) + "  "
                    + pad(percent(entry.idealShare), 8, right: true) + "  " + pad(fixed(entry.loadRatio, 3), 6, right: true)
            )
        }
        rows.append(
            "peak-to-mean \(fixed(distribution.peakToMean, 4))  stddev \(fixed(distribution.standardDeviation, 4))  "
                + "(\(distribution.entries.count) nodes, \(distribution.keyCount) keys)"
        )
        return rows
    }

    func json() -> String {
        var fields = Self.summaryFields(after.distribution)
        fields.insert(("algorithm", JSON.string(algorithm.rawValue)), at: 0)
        fields.insert(("keys", String(after.distribution.keyCount)), at: 1)
        fields.append(("moved_fraction", movedFraction.map { JSON.number($0) } ?? "null"))
        fields.append(("minimum_moved_fraction", minimumMovedFraction.map { JSON.number($0) } ?? "null"))
        if change != nil {
            fields.append(("before", JSON.object(Self.summaryFields(before.distribution))))
        }
        return JSON.object(fields) + "\n"
    }

    private static func summaryFields(_ distribution: KeyDistribution) -> [(String, String)] {
        let nodes = distribution.entries.map { entry in
            JSON.object([
                ("name", JSON.string(entry.name)),
                ("weight", String(entry.weight)),
                ("keys", String(entry.keys)),
                ("share", JSON.number(entry.share)),
                ("ideal_share", JSON.number(entry.idealShare)),
            ])
        }
        return [
            ("nodes", "[" + nodes.joined(separator: ",") + "]"),
            ("peak_to_mean", JSON.number(distribution.peakToMean)),
            ("stddev", JSON.number(distribution.standardDeviation)),
        ]
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 2) + "%" }

    /// `value` with `digits` decimals, without Foundation's formatting.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled) - whole * Int(scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return text
    }
}

/// The little JSON writing `simulate` needs, with keys in a stable order.
enum JSON {
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + String(scalar.value >> 4, radix: 16) + String(scalar.value & 0xF, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Doubles in Swift's shortest round-trip form, which JSON parsers accept.
    static func number(_ value: Double) -> String {
        value.isFinite ? String(value) : "null"
    }
}
