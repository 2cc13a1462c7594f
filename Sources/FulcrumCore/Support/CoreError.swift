/// Why the core refused a configuration or an operation.
///
/// The code is a struct so that codes can be added without breaking callers.
public struct CoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A backend's definition is invalid: weight, name, limits.
        public static let invalidBackend = Code("invalid backend")
        /// A cluster's definition is invalid: duplicate backends, no backends.
        public static let invalidCluster = Code("invalid cluster")
        /// An algorithm's parameters are invalid.
        public static let invalidAlgorithm = Code("invalid algorithm")
        /// A health, ejection, slow-start or retry setting is out of range.
        public static let invalidSetting = Code("invalid setting")
        /// No backend of that id.
        public static let unknownBackend = Code("unknown backend")

        public var description: String { name }
    }

    public var code: Code
    /// One line: what is wrong and what is accepted.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
