/// A key path into the configuration, such as `clusters.api.backends[2].weight`.
struct ConfigPath: Sendable, Hashable, CustomStringConvertible {
    private(set) var text: String

    static let root = ConfigPath(text: "")

    /// A mapping key: `.name`, or `["a.b"]` when the key is not a plain word.
    func key(_ key: String) -> ConfigPath {
        let plain =
            !key.isEmpty
            && key.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-"
            }
        if !plain { return ConfigPath(text: text + "[\"\(key)\"]") }
        return ConfigPath(text: text.isEmpty ? key : text + "." + key)
    }

    /// A list element, 0-based.
    func index(_ index: Int) -> ConfigPath { ConfigPath(text: text + "[\(index)]") }

    var description: String { text }
}
