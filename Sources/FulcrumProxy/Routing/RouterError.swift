/// Why a ``Router`` cannot be built from a set of routes.
///
/// The code is a struct so that codes can be added without breaking callers,
/// as with FulcrumCore's `CoreError`.
public struct RouterError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A path, header, query, cookie or claim regex does not compile.
        public static let invalidRegex = Code("invalid regex")
        /// A route's target cannot route anything: an empty split, or weights
        /// that sum to 0. ``FulcrumConfig`` rejects these at load; routes built
        /// in code may still have them.
        public static let invalidTarget = Code("invalid target")
        /// The route asks for something this router does not do yet, such as
        /// JWT signature verification.
        public static let unsupported = Code("unsupported")

        public var description: String { name }
    }

    public var code: Code
    /// One line: which route, what is wrong, and what is accepted.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
