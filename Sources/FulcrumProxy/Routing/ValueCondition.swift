import FulcrumConfig

/// A compiled ``ValueMatch`` or ``PathMatch``: regexes are built once, at
/// ``Router/init(routes:defaultCluster:)``.
///
/// Values compare byte for byte (case-sensitive, no Unicode normalisation):
/// what a client sent is what is matched.
enum ValueCondition: @unchecked Sendable {
    // @unchecked: `Regex<Output>` is Sendable only where `Output` is, and
    // `AnyRegexOutput` (a pattern's captures, typed at run time) is not. The
    // regex itself is immutable: its only mutable state is the lowered
    // program, which the standard library publishes with an atomic
    // initialise-once (and which `compile` builds up front). Match outputs
    // are created per match and never leave `holds(for:)`.
    case exact(String)
    case prefix(String)
    /// Searched in the value (not anchored unless the pattern says so).
    case regex(Regex<AnyRegexOutput>)
    case present(Bool)

    /// - Parameter what: names the value in the error, such as `route 'api': header X-Env`.
    init(_ match: ValueMatch, what: @autoclosure () -> String) throws(RouterError) {
        switch match {
        case .exact(let value): self = .exact(value)
        case .prefix(let value): self = .prefix(value)
        case .regex(let pattern): self = .regex(try Self.compile(pattern, what: what()))
        case .present(let present): self = .present(present)
        }
    }

    init(_ match: PathMatch, what: @autoclosure () -> String) throws(RouterError) {
        switch match {
        case .exact(let value): self = .exact(value)
        case .prefix(let value): self = .prefix(value)
        case .regex(let pattern): self = .regex(try Self.compile(pattern, what: what()))
        }
    }

    static func compile(_ pattern: String, what: String) throws(RouterError) -> Regex<AnyRegexOutput> {
        do {
            let regex = try Regex(pattern)
            // Matching once lowers the pattern to its program now, off the
            // event loop, rather than on the first request.
            _ = try? regex.firstMatch(in: "")
            return regex
        } catch {
            throw RouterError(
                code: .invalidRegex,
                message: "\(what): the regex '\(pattern)' does not compile: \(error)"
            )
        }
    }

    /// Whether the condition holds for a value, or for its absence (`nil`).
    ///
    /// - Complexity: O(n) in the value's length for exact and prefix, with no
    ///   allocation; a regex costs what its pattern costs (Swift `Regex` is a
    ///   backtracking engine, so keep routing patterns simple).
    func holds(for value: Substring?) -> Bool {
        switch self {
        case .present(let present):
            return (value != nil) == present
        case .exact(let expected):
            guard let value else { return false }
            return value.utf8.elementsEqual(expected.utf8)
        case .prefix(let expected):
            guard let value else { return false }
            return value.utf8.starts(with: expected.utf8)
        case .regex(let regex):
            guard let value else { return false }
            return ((try? regex.firstMatch(in: value)) ?? nil) != nil
        }
    }

    func holds(for value: String?) -> Bool {
        holds(for: value.map { $0[...] })
    }
}
