/// A value taken from each request, for hashing (`hash_key`) or for sticky
/// splits (`split_key`). Written `header:NAME`, `cookie:NAME`, `query:NAME`,
/// `ip` or `path`.
public enum RequestKey: Sendable, Hashable, CustomStringConvertible {
    /// A request header's value; names compare case-insensitively.
    case header(String)
    /// A cookie's value.
    case cookie(String)
    /// A query parameter's value.
    case query(String)
    /// The client's IP address.
    case clientIP
    /// The request path, without the query.
    case path

    /// The syntax, for error messages.
    public static let syntax = "header:NAME, cookie:NAME, query:NAME, ip or path"

    /// Parses `header:X-User` and the other forms.
    /// - Returns: the key, or why the text is not one.
    public static func parse(_ text: String) -> Result<RequestKey, RequestKeyError> {
        if text == "ip" { return .success(.clientIP) }
        if text == "path" { return .success(.path) }
        guard let colon = text.firstIndex(of: ":") else {
            return .failure(RequestKeyError(message: "a key source: \(syntax)"))
        }
        let source = String(text[..<colon])
        let name = String(text[text.index(after: colon)...])
        switch source {
        case "header", "cookie":
            guard !name.isEmpty else {
                return .failure(
                    RequestKeyError(message: "a \(source) name after '\(source):', such as \(source):X-User")
                )
            }
            guard name.utf8.allSatisfy(HTTPToken.isTokenByte) else {
                return .failure(
                    RequestKeyError(
                        message: "a \(source) name of letters, digits and !#$%&'*+-.^_`|~ after '\(source):'"
                    )
                )
            }
            return .success(source == "header" ? .header(name) : .cookie(name))
        case "query":
            guard !name.isEmpty else {
                return .failure(RequestKeyError(message: "a parameter name after 'query:', such as query:user"))
            }
            return .success(.query(name))
        default:
            return .failure(RequestKeyError(message: "a key source: \(syntax)"))
        }
    }

    public var description: String {
        switch self {
        case .header(let name): "header:\(name)"
        case .cookie(let name): "cookie:\(name)"
        case .query(let name): "query:\(name)"
        case .clientIP: "ip"
        case .path: "path"
        }
    }
}

/// Why a text is not a ``RequestKey``: what is accepted instead.
public struct RequestKeyError: Error, Sendable, Hashable {
    public var message: String
}

/// RFC 9110 tokens: header and cookie names.
enum HTTPToken {
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func isToken(_ text: String) -> Bool { !text.isEmpty && text.utf8.allSatisfy(isTokenByte) }
}
