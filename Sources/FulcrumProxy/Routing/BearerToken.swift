/// The JWT in a `Bearer <token>` header value (RFC 6750 §2.1), decoded but
/// not verified (``JWTVerifier`` checks signatures where a route asks).
package enum BearerToken: Sendable, Hashable {
    /// The header is absent, or carries another scheme (such as `Basic`):
    /// the request has no token, so every claim is absent.
    case none
    /// A bearer token that is not a readable JWS compact serialisation
    /// (RFC 7515 §7.1): not three base64url parts, a header or payload that is
    /// not one strict JSON object, or longer than ``maxLength``.
    case invalid
    /// A readable token.
    case token(JWS)

    /// A JWS compact serialisation, split and decoded.
    package struct JWS: Sendable, Hashable {
        /// The header's JSON text (one object).
        package let header: [UInt8]
        /// The payload's JSON text (strict UTF-8, one object).
        package let payload: [UInt8]
        /// `header.payload` as sent: the bytes the signature covers.
        package let signingInput: [UInt8]
        /// The signature's base64url text.
        package let signature: [UInt8]
    }

    /// Longer tokens are invalid. Real ones are well under 4 KiB; this bounds
    /// the work a request can cause.
    static let maxLength = 16 * 1024

    /// Reads the header's value: the scheme `Bearer` (any case, RFC 9110
    /// §11.1), one or more spaces, then the token.
    ///
    /// - Complexity: O(n) in the value's length; allocates the decoded header
    ///   and payload.
    package init(headerValue: String?) {
        guard let headerValue else {
            self = .none
            return
        }
        let value = headerValue[...]
        let bytes = value.utf8
        let schemeEnd = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
        guard ASCII.equalsIgnoringCase(bytes[..<schemeEnd], "bearer".utf8) else {
            self = .none
            return
        }
        let token = CookieHeader.trimmed(value[schemeEnd...]).utf8
        guard !token.isEmpty, token.count <= Self.maxLength else {
            self = .invalid
            return
        }
        guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = token[token.index(after: firstDot)...].firstIndex(of: UInt8(ascii: ".")),
            !token[token.index(after: secondDot)...].contains(UInt8(ascii: "."))
        else {
            self = .invalid
            return
        }
        // The signature (third part) may be empty (`alg: none`); it is not checked here.
        let header = token[..<firstDot]
        let payload = token[token.index(after: firstDot)..<secondDot]
        let signature = token[token.index(after: secondDot)...]
        guard signature.allSatisfy({ Base64URL.sextet($0) != nil }),
            !header.isEmpty, !payload.isEmpty,
            let headerJSON = Base64URL.decode(header), JSONClaimScanner.isObject(headerJSON),
            let payloadJSON = Base64URL.decode(payload)
        else {
            self = .invalid
            return
        }
        self = .token(
            JWS(header: headerJSON, payload: payloadJSON, signingInput: Array(token[..<secondDot]), signature: Array(signature))
        )
    }
}
