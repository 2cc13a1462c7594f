import Yams

/// A line and column, 1-based.
struct Position: Sendable, Hashable, Comparable {
    var line: Int
    var column: Int

    static let start = Position(line: 1, column: 1)

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark?) {
        self = mark.map { Position(line: $0.line, column: $0.column) } ?? .start
    }

    static func < (a: Position, b: Position) -> Bool { (a.line, a.column) < (b.line, b.column) }

    /// `line:column`.
    var short: String { "\(line):\(column)" }
}

/// A value in the file, with its key path and position.
struct Entry {
    var node: Node
    var path: ConfigPath
    var position: Position
}

/// A mapping's recognised keys, after unknown keys have been reported.
struct Fields {
    var path: ConfigPath
    /// The mapping's own position, for keys that are missing from it.
    var position: Position
    /// Keys whose value is not null.
    private var entries: [String: Entry] = [:]

    init(path: ConfigPath, position: Position) {
        self.path = path
        self.position = position
    }

    mutating func set(_ key: String, _ entry: Entry) { entries[key] = entry }

    /// The value, or `nil` when the key is absent or its value is null.
    subscript(key: String) -> Entry? { entries[key] }
}

/// Walks the composed YAML tree, collecting a diagnostic for every problem
/// instead of stopping at the first.
///
/// Each typed accessor returns `nil` after reporting when the value is not
/// acceptable, so callers fall back to a default and carry on.
struct ConfigReader {
    let file: String
    /// The directory of the configuration file, for relative paths in it.
    let directory: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
        if let slash = file.lastIndex(of: "/") {
            directory = String(file[..<slash])
        } else {
            directory = "."
        }
    }

    // MARK: Reporting

    mutating func report(
        _ kind: Diagnostic.Kind,
        at position: Position,
        _ path: ConfigPath,
        found: String,
        expected: String,
        hint: String? = nil
    ) {
        diagnostics.append(
            Diagnostic(
                kind: kind,
                file: file,
                line: position.line,
                column: position.column,
                keyPath: path.description,
                found: found,
                expected: expected,
                hint: hint
            )
        )
    }

    mutating func invalid(_ entry: Entry, expected: String, hint: String? = nil) {
        report(
            .invalidValue,
            at: entry.position,
            entry.path,
            found: Self.describe(entry.node),
            expected: expected,
            hint: hint
        )
    }

    mutating func wrongType(_ entry: Entry, expected: String) {
        report(.wrongType, at: entry.position, entry.path, found: Self.describe(entry.node), expected: expected)
    }

    /// How a value is shown after "found": numbers and words as written,
    /// strings in quotes, collections by kind.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            var text = scalar.string
            if text.count > 60 { text = String(text.prefix(57)) + "..." }
            text = text.replacingNewlinesWithSpaces()
            let looksLikeNumber = Double(text) != nil || ["true", "false"].contains(text.lowercased())
            if scalar.style == .plain || scalar.style == .any {
                return looksLikeNumber ? text : "'\(text)'"
            }
            return looksLikeNumber ? "'\(text)' (a quoted string)" : "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// `key:` with no value, `~` or `null`, unquoted.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    // MARK: Structure

    /// The recognised keys of a mapping. Reports unknown keys, with a
    /// suggestion when one is close, and YAML merge keys (`<<: *base`) are
    /// applied first, with the mapping's own keys taking precedence.
    mutating func fields(_ entry: Entry, keys allowed: [String], expected: String) -> Fields? {
        guard case .mapping(let mapping) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        var fields = Fields(path: entry.path, position: Position(mapping.mark))
        var pairs: [(Node, Node)] = []
        var merged: [(Node, Node)] = []
        for (key, value) in mapping {
            if case .scalar(let scalar) = key, scalar.string == "<<", scalar.style == .plain {
                switch value {
                case .mapping(let base): merged += base.map { ($0.key, $0.value) }
                case .sequence(let bases):
                    for case .mapping(let base) in bases { merged += base.map { ($0.key, $0.value) } }
                default: break
                }
            } else {
                pairs.append((key, value))
            }
        }
        let explicit = Set(pairs.compactMap { $0.0.scalar?.string })
        pairs += merged.filter { !explicit.contains($0.0.scalar?.string ?? "") }
        for (keyNode, value) in pairs {
            guard case .scalar(let keyScalar) = keyNode else {
                report(
                    .wrongType,
                    at: Position(keyNode.mark),
                    entry.path,
                    found: "\(Self.describe(keyNode)) as a key",
                    expected: "a plain key, one of \(allowed.joined(separator: ", "))"
                )
                continue
            }
            let key = keyScalar.string
            guard allowed.contains(key) else {
                report(
                    .unknownKey,
                    at: Position(keyNode.mark),
                    entry.path,
                    found: "unknown key '\(key)'",
                    expected: "one of \(allowed.joined(separator: ", "))",
                    hint: Suggestion.hint(for: key, in: allowed)
                )
                continue
            }
            if Self.isNull(value) { continue }
            fields.set(
                key,
                Entry(node: value, path: entry.path.key(key), position: Position(value.mark ?? keyNode.mark))
            )
        }
        return fields
    }

    /// The value of a required key; reports it missing (at the mapping) when
    /// absent or null.
    mutating func require(_ fields: Fields, _ key: String, expected: String) -> Entry? {
        guard let entry = fields[key] else {
            report(
                .missingKey,
                at: fields.position,
                fields.path.key(key),
                found: "nothing",
                expected: expected + " (required)"
            )
            return nil
        }
        return entry
    }

    /// The elements of a list.
    mutating func list(_ entry: Entry, expected: String) -> [Entry]? {
        guard case .sequence(let sequence) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        return sequence.enumerated().map { index, node in
            Entry(node: node, path: entry.path.index(index), position: Position(node.mark ?? sequence.mark))
        }
    }

    /// The key–value pairs of a mapping with free-form keys (cluster names).
    mutating func namedEntries(
        _ entry: Entry,
        expected: String
    ) -> [(name: String, namePosition: Position, entry: Entry)]? {
        guard case .mapping(let mapping) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        var result: [(String, Position, Entry)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, !Self.isNull(key) else {
                report(
                    .wrongType,
                    at: Position(key.mark),
                    entry.path,
                    found: "\(Self.describe(key)) as a name",
                    expected: "a name"
                )
                continue
            }
            let path = entry.path.key(scalar.string)
            result.append(
                (
                    scalar.string, Position(key.mark),
                    Entry(node: value, path: path, position: Position(value.mark ?? key.mark))
                )
            )
        }
        return result
    }

    // MARK: Scalars

    /// A non-empty string.
    mutating func string(_ entry: Entry, expected: String = "a non-empty string") -> String? {
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        guard !scalar.string.isEmpty else {
            invalid(entry, expected: expected)
            return nil
        }
        return scalar.string
    }

    /// A whole number in `range`, written without quotes.
    mutating func int(_ entry: Entry, in range: ClosedRange<Int>, expected: String? = nil) -> Int? {
        let expected = expected ?? Self.wholeNumber(range)
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        guard scalar.style == .plain || scalar.style == .any, let value = Int(scalar.string), range.contains(value)
        else {
            invalid(entry, expected: expected)
            return nil
        }
        return value
    }

    /// `a whole number from 0 to 256`, `a whole number, 0 or more`.
    static func wholeNumber(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max
            ? "a whole number, \(range.lowerBound) or more"
            : "a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// A finite number in `range`; a trailing `%` is allowed when `percent`.
    mutating func number(
        _ entry: Entry,
        in range: ClosedRange<Double>,
        percent: Bool = false,
        expected: String? = nil
    ) -> Double? {
        let expected = expected ?? "a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        var text = Substring(scalar.string)
        if percent, text.last == "%" { text = text.dropLast() }
        guard scalar.style == .plain || scalar.style == .any,
            let value = Double(text), value.isFinite, range.contains(value)
        else {
            invalid(entry, expected: expected)
            return nil
        }
        return value
    }

    /// A percentage from 0 to 100.
    mutating func percent(_ entry: Entry) -> Double? {
        number(entry, in: 0...100, percent: true, expected: "a percentage from 0 to 100")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// `true` or `false`.
    mutating func bool(_ entry: Entry) -> Bool? {
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: "true or false")
            return nil
        }
        if scalar.style == .plain || scalar.style == .any {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        invalid(entry, expected: "true or false")
        return nil
    }

    /// A duration such as `2s`; zero only when `allowZero`.
    mutating func duration(_ entry: Entry, allowZero: Bool = false) -> Duration? {
        let expected = allowZero ? DurationText.syntax + ", or 0s" : DurationText.syntax + ", longer than 0s"
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        guard let value = DurationText.parse(scalar.string), allowZero || value > .zero else {
            let bare = Double(scalar.string) != nil && scalar.string != "0"
            invalid(entry, expected: expected, hint: bare ? "add a unit, such as \(scalar.string)s" : nil)
            return nil
        }
        return value
    }

    /// One of `names`, with a suggestion for near misses.
    mutating func choice(_ entry: Entry, from names: [String]) -> String? {
        let expected = "one of \(names.joined(separator: ", "))"
        guard case .scalar(let scalar) = entry.node else {
            wrongType(entry, expected: expected)
            return nil
        }
        guard names.contains(scalar.string) else {
            invalid(entry, expected: expected, hint: Suggestion.hint(for: scalar.string, in: names))
            return nil
        }
        return scalar.string
    }

    /// A pattern that compiles as a Swift `Regex`.
    mutating func regex(_ entry: Entry) -> String? {
        guard let pattern = string(entry, expected: "a regular expression") else { return nil }
        do {
            _ = try Regex(pattern)
        } catch {
            let reason = "\(error)".replacingNewlinesWithSpaces()
            invalid(
                entry,
                expected: "a valid regular expression",
                hint: reason.isEmpty ? nil : "the pattern fails with: \(reason)"
            )
            return nil
        }
        return pattern
    }
}

extension String {
    func replacingNewlinesWithSpaces() -> String {
        split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
