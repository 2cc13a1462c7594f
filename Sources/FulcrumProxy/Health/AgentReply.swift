import FulcrumCore

/// A reply of an HAProxy-style agent (`agent-check`), parsed.
///
/// HAProxy's format: one line of words separated by spaces, tabs or commas,
/// in any order, case-insensitive, ending at a newline or at the close of the
/// connection: `up`, `down` (also `fail` and `stopped`), `ready`, `drain`,
/// `maint`, a weight such as `75%`, and `#` followed by a description that
/// runs to the end of the line. HAProxy ignores words it does not know (such
/// as `maxconn:30`), and so does this parser, so agents written for HAProxy
/// work unchanged. The tests use replies from HAProxy's own agent-check
/// regression test.
package struct AgentReply: Sendable, Equatable {
    /// `up` or `down`, when the agent said either.
    package var health: HealthStatus?
    /// `ready` (enabled), `drain` or `maint`.
    package var admin: AdminState?
    /// The weight share in percent.
    package var weightPercent: Double?
    /// The text after `#`.
    package var description: String?

    package init(
        health: HealthStatus? = nil,
        admin: AdminState? = nil,
        weightPercent: Double? = nil,
        description: String? = nil
    ) {
        self.health = health
        self.admin = admin
        self.weightPercent = weightPercent
        self.description = description
    }

    /// Parses the first line of `text`.
    package init(_ text: Substring) {
        var line = text.prefix { !$0.isNewline }
        if let hash = line.firstIndex(of: "#") {
            let rest = line[line.index(after: hash)...].drop { $0 == " " }
            description = rest.isEmpty ? nil : String(rest)
            line = line[..<hash]
        }
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
            switch word.lowercased() {
            case "up": health = .up
            case "down", "fail", "stopped": health = .down
            case "ready": admin = .enabled
            case "drain": admin = .draining
            case "maint": admin = .maintenance
            default:
                if word.last == "%", let value = Int(word.dropLast()), value >= 0 { weightPercent = Double(value) }
            }
        }
    }

    /// The check's verdict: `down` fails, anything else the agent could say
    /// passes (it answered), carrying the weight and operator state.
    package var verdict: CheckVerdict {
        var said = [
            health.map { $0 == .up ? "up" : "down" }, admin.map(\.agentWord), weightPercent.map { "\(Int($0))%" },
        ]
        .compactMap { $0 }.joined(separator: " ")
        if said.isEmpty { said = "no state" }
        if let description { said += " (\(description))" }
        if health == .down { return .fail("agent check: \(said)", weightPercent: weightPercent, admin: admin) }
        return .pass("agent check: \(said)", weightPercent: weightPercent, admin: admin)
    }
}

extension AdminState {
    fileprivate var agentWord: String {
        switch self {
        case .enabled: "ready"
        case .draining: "drain"
        case .maintenance: "maint"
        }
    }
}
