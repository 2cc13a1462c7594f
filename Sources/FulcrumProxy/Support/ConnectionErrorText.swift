import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connection errors as operators read them in logs and reasons, shared by
/// the HTTP and TCP listeners and the health probes.
enum ConnectionErrorText {
    /// A short reason for a connection error: `connection refused` rather
    /// than NIO's full description with the system call and errno.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return describe(errno: error.errnoCode) }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timeout" }
        return "\(error)"
    }

    /// `connection refused` for ECONNREFUSED.
    static func describe(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
