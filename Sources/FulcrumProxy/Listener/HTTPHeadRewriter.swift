import FulcrumConfig
import FulcrumCore
import NIOCore

/// Rewrites message heads as bytes: the proxy copies the head it received,
/// leaving out the fields it must not forward, and appends the ones it adds.
/// Nothing else is decoded or re-encoded, so the request-line, field order,
/// case and spacing reach the other side exactly as sent.
///
/// Removed in both directions (RFC 9110 §7.6.1): `Connection` and the fields
/// it names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`;
/// from requests also `Proxy-Authorization`. A `Connection` option naming a
/// framing field (`Content-Length`, `Transfer-Encoding`) or `Host` is
/// ignored: the proxy frames the body from those fields, and removing them
/// would make the next hop frame it differently (request smuggling).
enum HTTPHeadRewriter {
    /// What the request rewrite needs besides the head.
    struct RequestEdits {
        var handling: RouteHeaders
        /// The client's address as text, for `X-Forwarded-For` and `Forwarded`.
        var clientIP: String?
        /// Sent as `Host` when `handling.preserveHost` is off.
        var backend: BackendAddress
        /// The `X-Request-ID` to add when the request has none.
        var requestID: UInt64
    }

    /// Writes the head of `view` as it goes to a backend.
    ///
    /// - Complexity: O(*n*) in the head's size; one pass over its fields.
    static func writeRequestHead(_ view: HTTPRequestView, edits: RequestEdits, into out: inout ByteBuffer) {
        let head = view.head
        let handling = edits.handling
        var forwardedFor: [Range<Int>] = []
        var forwarded: [Range<Int>] = []
        var hasRequestID = false
        view.bytes.withUnsafeReadableBytes { bytes in
            var cursor = head.methodRange.lowerBound
            for field in view.fields.prefix(head.headerCount) {
                var drop = isHopByHop(bytes, field.name, tokens: head.connectionTokens, request: true)
                if !drop {
                    switch classify(bytes, field.name) {
                    case .xForwardedFor where handling.xForwardedFor:
                        forwardedFor.append(field.value)
                        drop = true
                    case .xForwardedProto where handling.xForwardedFor, .xForwardedHost where handling.xForwardedFor:
                        drop = true
                    case .forwarded where handling.forwarded:
                        forwarded.append(field.value)
                        drop = true
                    case .host where !handling.preserveHost:
                        drop = true
                    case .xRequestID:
                        hasRequestID = true
                    default:
                        break
                    }
                }
                if drop {
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[cursor..<field.name.lowerBound]))
                    cursor = lineEnd(bytes, after: field.value.upperBound)
                }
            }
            // Everything kept, up to (not including) the blank line.
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[cursor..<(head.headLength - 2)]))

            if handling.xForwardedFor {
                if edits.clientIP != nil || !forwardedFor.isEmpty {
                    out.writeStaticString("X-Forwarded-For: ")
                    writeList(bytes, forwardedFor, into: &out)
                    if let ip = edits.clientIP {
                        if !forwardedFor.isEmpty { out.writeStaticString(", ") }
                        out.writeString(ip)
                    }
                    out.writeStaticString("\r\n")
                }
                out.writeStaticString("X-Forwarded-Proto: http\r\n")
                if let host = head.hostRange {
                    out.writeStaticString("X-Forwarded-Host: ")
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[host]))
                    out.writeStaticString("\r\n")
                }
            }
            if handling.forwarded {
                out.writeStaticString("Forwarded: ")
                writeList(bytes, forwarded, into: &out)
                if !forwarded.isEmpty { out.writeStaticString(", ") }
                if let ip = edits.clientIP {
                    out.writeStaticString("for=")
                    if ip.utf8.contains(UInt8(ascii: ":")) {
                        out.writeStaticString("\"[")
                        out.writeString(ip)
                        out.writeStaticString("]\";")
                    } else {
                        out.writeString(ip)
                        out.writeStaticString(";")
                    }
                }
                if let host = head.hostRange {
                    out.writeStaticString("host=\"")
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[host]))
                    out.writeStaticString("\";")
                }
                out.writeStaticString("proto=http\r\n")
            }
        }
        if handling.requestID && !hasRequestID {
            out.writeStaticString("X-Request-ID: ")
            writeHex(edits.requestID, into: &out)
            out.writeStaticString("\r\n")
        }
        if !handling.preserveHost {
            out.writeStaticString("Host: ")
            out.writeString(edits.backend.description)
            out.writeStaticString("\r\n")
        }
        // Backend connections are pooled, whatever the client's own choice:
        // HTTP/1.1 keeps them by default, HTTP/1.0 must ask.
        if head.version == .http1_0 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
    }

    /// How the response's connection header should read for the client.
    enum ClientConnection {
        /// Say nothing: the default for the client's version holds.
        case implicit
        /// `Connection: close`: the proxy closes after this response.
        case close
        /// `Connection: keep-alive`, which an HTTP/1.0 client needs to keep the connection.
        case keepAlive
    }

    /// Writes a backend's response head as it goes to the client.
    ///
    /// - Parameters:
    ///   - bytes: The head's bytes, starting at its status-line.
    /// - Complexity: O(*n*) in the head's size.
    static func writeResponseHead(
        _ bytes: ByteBuffer,
        head: ParsedHTTPResponseHead,
        fields: [HTTPHeaderField],
        connection: ClientConnection,
        into out: inout ByteBuffer
    ) {
        bytes.withUnsafeReadableBytes { bytes in
            var cursor = 0
            for field in fields.prefix(head.headerCount)
            where isHopByHop(bytes, field.name, tokens: head.connectionTokens, request: false) {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[cursor..<field.name.lowerBound]))
                cursor = lineEnd(bytes, after: field.value.upperBound)
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[cursor..<(head.headLength - 2)]))
        }
        switch connection {
        case .implicit: break
        case .close: out.writeStaticString("Connection: close\r\n")
        case .keepAlive: out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
    }

    // MARK: - Field names

    private enum Known {
        case host, xForwardedFor, xForwardedProto, xForwardedHost, forwarded, xRequestID, other
    }

    private static func classify(_ bytes: UnsafeRawBufferPointer, _ name: Range<Int>) -> Known {
        switch name.count {
        case 4 where HTTPSyntax.equalsLowercase(bytes, name, "host"): .host
        case 9 where HTTPSyntax.equalsLowercase(bytes, name, "forwarded"): .forwarded
        case 12 where HTTPSyntax.equalsLowercase(bytes, name, "x-request-id"): .xRequestID
        case 15 where HTTPSyntax.equalsLowercase(bytes, name, "x-forwarded-for"): .xForwardedFor
        case 16 where HTTPSyntax.equalsLowercase(bytes, name, "x-forwarded-host"): .xForwardedHost
        case 17 where HTTPSyntax.equalsLowercase(bytes, name, "x-forwarded-proto"): .xForwardedProto
        default: .other
        }
    }

    /// Whether a field must not be forwarded: a fixed hop-by-hop name, or one
    /// the message's `Connection` header lists (except framing fields and Host).
    static func isHopByHop(
        _ bytes: UnsafeRawBufferPointer,
        _ name: Range<Int>,
        tokens: HTTPConnectionTokens,
        request: Bool
    ) -> Bool {
        switch name.count {
        case 2 where HTTPSyntax.equalsLowercase(bytes, name, "te"): return true
        case 7 where HTTPSyntax.equalsLowercase(bytes, name, "trailer"),
            7 where HTTPSyntax.equalsLowercase(bytes, name, "upgrade"):
            return true
        case 10 where HTTPSyntax.equalsLowercase(bytes, name, "connection"),
            10 where HTTPSyntax.equalsLowercase(bytes, name, "keep-alive"):
            return true
        case 16 where HTTPSyntax.equalsLowercase(bytes, name, "proxy-connection"): return true
        case 19 where request && HTTPSyntax.equalsLowercase(bytes, name, "proxy-authorization"): return true
        case 4 where HTTPSyntax.equalsLowercase(bytes, name, "host"),
            14 where HTTPSyntax.equalsLowercase(bytes, name, "content-length"),
            17 where HTTPSyntax.equalsLowercase(bytes, name, "transfer-encoding"):
            return false
        default: break
        }
        for token in tokens where token.count == name.count {
            var same = true
            for i in 0..<name.count where HTTPSyntax.lower(bytes[token.lowerBound + i]) != HTTPSyntax.lower(bytes[name.lowerBound + i]) {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }

    /// The offset just past the CRLF that ends the field line whose value
    /// ends at `offset` (the parser has checked that the line ends in CRLF).
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int {
        var i = offset
        while bytes[i] != HTTPSyntax.lf { i += 1 }
        return i + 1
    }

    private static func writeList(_ bytes: UnsafeRawBufferPointer, _ values: [Range<Int>], into out: inout ByteBuffer) {
        for (i, value) in values.enumerated() {
            if i > 0 { out.writeStaticString(", ") }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[value]))
        }
    }

    /// Sixteen lower-case hex digits, without going through `String`, in one write.
    static func writeHex(_ value: UInt64, into out: inout ByteBuffer) {
        let digits: StaticString = "0123456789abcdef"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { text in
            for i in 0..<16 {
                text[i] = digits.utf8Start[Int((value >> UInt64(60 - 4 * i)) & 0xF)]
            }
            out.writeBytes(UnsafeRawBufferPointer(text))
        }
    }
}
