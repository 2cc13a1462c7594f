#if canImport(Glibc)
import Glibc
#endif

/// The access log's line format. One line per request, written through
/// swift-log under the label `fulcrum.access`.
public enum AccessLogFormat: String, Sendable, CaseIterable {
    /// nginx's `combined` plus Fulcrum's fields:
    /// `127.0.0.1 - - [26/Nov/2026:03:40:01 +0000] "GET / HTTP/1.1" 200 10 "-" "curl/7.88" cluster=web backend=b1 upstream_ms=0.8 retries=0`
    case combined
    /// One JSON object per line, for log shippers.
    case json
}

/// One request as the access log reports it.
package struct AccessRecord {
    package var client: String
    package var method: String
    package var uri: String
    package var version: String
    package var status: Int
    package var bytes: Int
    package var referer: String?
    package var userAgent: String?
    package var cluster: String
    package var backend: String
    package var upstreamMilliseconds: Double
    package var retries: Int

    package init(
        client: String,
        method: String,
        uri: String,
        version: String,
        status: Int,
        bytes: Int,
        referer: String?,
        userAgent: String?,
        cluster: String,
        backend: String,
        upstreamMilliseconds: Double,
        retries: Int
    ) {
        self.client = client
        self.method = method
        self.uri = uri
        self.version = version
        self.status = status
        self.bytes = bytes
        self.referer = referer
        self.userAgent = userAgent
        self.cluster = cluster
        self.backend = backend
        self.upstreamMilliseconds = upstreamMilliseconds
        self.retries = retries
    }

    package func line(_ format: AccessLogFormat, unixSeconds: Int) -> String {
        let milliseconds = String(Double(Int(upstreamMilliseconds * 10)) / 10)
        switch format {
        case .combined:
            return "\(client) - - [\(Self.commonLogTime(unixSeconds))] \"\(method) \(uri) \(version)\" \(status) \(bytes) "
                + "\"\(referer ?? "-")\" \"\(userAgent ?? "-")\" cluster=\(cluster) backend=\(backend) "
                + "upstream_ms=\(milliseconds) retries=\(retries)"
        case .json:
            return "{\"time\":\(unixSeconds),\"client\":\(Self.quoted(client)),\"method\":\(Self.quoted(method)),"
                + "\"uri\":\(Self.quoted(uri)),\"status\":\(status),\"bytes\":\(bytes),\"cluster\":\(Self.quoted(cluster)),"
                + "\"backend\":\(Self.quoted(backend)),\"upstream_ms\":\(milliseconds),\"retries\":\(retries),"
                + "\"user_agent\":\(userAgent.map(Self.quoted) ?? "null")}"
        }
    }

    /// `26/Nov/2026:03:40:01 +0000`, in UTC, without Foundation's formatters.
    static func commonLogTime(_ unixSeconds: Int) -> String {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(parts.tm_year + 1900):"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
