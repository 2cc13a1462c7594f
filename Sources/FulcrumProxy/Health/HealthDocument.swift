/// An `application/health+json` document (the IETF draft "Health Check
/// Response Format for HTTP APIs", draft-inadarei-api-health-check) and the
/// verdict an application check draws from it.
///
/// Only what decides a backend's fate is read: the overall `status`, and in
/// `checks` each `component:measurement` key with its entries' `status`.
/// The draft's synonyms are accepted (`ok` and `up` pass; `error` and `down`
/// fail), since frameworks emit both spellings.
package struct HealthDocument: Sendable, Equatable {
    package enum Status: String, Sendable, Equatable {
        case pass, warn, fail

        /// The status a document's text names, synonyms included.
        static func named(_ text: String) -> Status? {
            switch text.lowercased() {
            case "pass", "ok", "up": .pass
            case "warn": .warn
            case "fail", "error", "down": .fail
            default: nil
            }
        }
    }

    /// The overall status.
    package var status: Status
    /// Each `checks` key with the worst status of its entries, in document order.
    package var checks: [(key: String, status: Status)]

    package static func == (a: HealthDocument, b: HealthDocument) -> Bool {
        a.status == b.status && a.checks.map(\.key) == b.checks.map(\.key)
            && a.checks.map(\.status) == b.checks.map(\.status)
    }

    /// The document in `body`, or `nil` when it is not a JSON object with a
    /// known `status`. A check entry without a known status counts as `fail`:
    /// a dependency that cannot say it is fine is not trusted to be.
    package static func parse(_ body: [UInt8]) -> HealthDocument? {
        guard let json = JSONValue.parse(body), let status = json["status"]?.text.flatMap(Status.named) else {
            return nil
        }
        var checks: [(key: String, status: Status)] = []
        if case .object(let members)? = json["checks"] {
            for (key, value) in members {
                let entries: [JSONValue]
                if case .array(let items) = value { entries = items } else { entries = [value] }
                let statuses = entries.map { $0["status"]?.text.flatMap(Status.named) ?? .fail }
                checks.append((key, statuses.max(by: { $0.rank < $1.rank }) ?? .pass))
            }
        }
        return HealthDocument(status: status, checks: checks)
    }

    /// Whether the key `db:connection` (or `db`) belongs to the dependency
    /// `name`: the name matches the whole key or its component before `:`.
    static func key(_ key: String, belongsTo name: String) -> Bool {
        key == name || key.split(separator: ":", maxSplits: 1).first.map(String.init) == name
    }

    /// What the check concludes.
    ///
    /// A required dependency that fails or is missing fails the check, naming
    /// it; an overall `fail` fails it, naming the failing entries; `warn`
    /// overall or on a required dependency passes at reduced weight.
    package func verdict(required: [String], warnWeightPercent: Double) -> CheckVerdict {
        var failing: [String] = []
        var warning: [String] = []
        for name in required {
            let entries = checks.filter { Self.key($0.key, belongsTo: name) }
            if entries.isEmpty { failing.append("\(name) missing") }
            for entry in entries where entry.status != .pass {
                if entry.status == .fail {
                    failing.append("\(entry.key) fail")
                } else {
                    warning.append("\(entry.key) warn")
                }
            }
        }
        if failing.isEmpty && status == .fail {
            failing = checks.filter { $0.status == .fail }.map { "\($0.key) fail" }
            if failing.isEmpty { failing = ["status fail"] }
        }
        if !failing.isEmpty {
            return .fail("application check: " + failing.joined(separator: ", "))
        }
        if status == .warn || !warning.isEmpty {
            if warning.isEmpty { warning = checks.filter { $0.status == .warn }.map { "\($0.key) warn" } }
            if warning.isEmpty { warning = ["status warn"] }
            return .pass("application check: " + warning.joined(separator: ", "), weightPercent: warnWeightPercent)
        }
        return .pass("application check: pass", weightPercent: 100)
    }
}

extension HealthDocument.Status {
    fileprivate var rank: Int {
        switch self {
        case .pass: 0
        case .warn: 1
        case .fail: 2
        }
    }
}
