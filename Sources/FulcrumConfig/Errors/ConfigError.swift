/// Why a configuration could not be loaded: every problem found, each with
/// its file, line, column and key path.
///
/// Loading does not stop at the first problem. The loader reads the whole
/// file, collects a ``Diagnostic`` for everything wrong with it (unknown keys,
/// values out of range, references to clusters that do not exist, listeners
/// that clash) and throws them together, in the order they appear in the file.
///
/// ```
/// fulcrum.yaml:14:17: clusters.api.backends[2].weight: found -3; expected a whole number from 0 to 256
/// ```
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. A struct, not an enum, so that codes can
    /// be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The file could not be read.
        public static let unreadableFile = Code("unreadable file")
        /// The file is not well-formed YAML.
        public static let syntax = Code("YAML syntax error")
        /// The YAML is well formed but its content is not a valid configuration.
        public static let invalidConfiguration = Code("invalid configuration")

        public var description: String { name }
    }

    public var code: Code
    /// Every problem found, in file order. Never empty.
    public var diagnostics: [Diagnostic]

    public init(code: Code, diagnostics: [Diagnostic]) {
        self.code = code
        self.diagnostics = diagnostics
    }

    /// One line per diagnostic.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// One problem in a configuration file: where it is, what was found there and
/// what is accepted.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. Growable, like ``ConfigError/Code``.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The file could not be read.
        public static let unreadableFile = Kind("unreadable file")
        /// Not well-formed YAML.
        public static let syntax = Kind("syntax")
        /// A key that this mapping does not take (often a typo).
        public static let unknownKey = Kind("unknown key")
        /// A required key is absent.
        public static let missingKey = Kind("missing key")
        /// A mapping where a list was expected, a list where a number was, ….
        public static let wrongType = Kind("wrong type")
        /// A value of the right type that is not accepted: out of range,
        /// malformed, an unknown name.
        public static let invalidValue = Kind("invalid value")
        /// A name used twice where names must be unique.
        public static let duplicate = Kind("duplicate")
        /// A reference to something not defined, such as an unknown cluster.
        public static let unknownReference = Kind("unknown reference")
        /// Settings that cannot hold together, such as two listeners on one port.
        public static let conflict = Kind("conflict")

        public var description: String { name }
    }

    public var kind: Kind
    /// The configuration file's path as given to the loader.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars as libyaml counts them.
    public var column: Int
    /// Where in the configuration, such as `clusters.api.backends[2].weight`.
    /// List indices are 0-based. Empty for problems with the file as a whole.
    public var keyPath: String
    /// What the file holds there, such as `-3` or `unknown key 'algoritm'`.
    public var found: String
    /// What is accepted there, such as `a whole number from 0 to 256`.
    public var expected: String
    /// A suggestion, such as `did you mean 'algorithm'?`.
    public var hint: String?

    public init(
        kind: Kind,
        file: String,
        line: Int,
        column: Int,
        keyPath: String,
        found: String,
        expected: String,
        hint: String? = nil
    ) {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.found = found
        self.expected = expected
        self.hint = hint
    }

    /// `file:line:column: key.path: found …; expected …[; hint]`, on one line.
    /// Problems with the file as a whole (it cannot be read) have line 0 and
    /// are shown as `file: found …`.
    public var description: String {
        var text = line > 0 ? "\(file):\(line):\(column): " : "\(file): "
        if !keyPath.isEmpty { text += keyPath + ": " }
        text += "found \(found); expected \(expected)"
        if let hint { text += "; \(hint)" }
        return text
    }
}
