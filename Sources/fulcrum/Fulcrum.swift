import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `fulcrum` command line.
///
/// Scripts depend on the exact forms and on the exit statuses: 0 for success,
/// 2 for bad input (one line on standard error, nothing on standard output).
@main
struct Fulcrum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulcrum",
        abstract: "A load balancer and consistent-hashing toolkit.",
        subcommands: [Demo.self, Serve.self, Validate.self, BackendCommand.self, Ring.self, Hash.self, Simulate.self]
    )

    static func main() async {
        // Log timestamps go through strftime, which re-reads /etc/localtime
        // (a stat per log line, so per connection on an L4 listener) unless
        // TZ is set; naming the same file keeps the local zone.
        setenv("TZ", ":/etc/localtime", 0)
        raiseDescriptorLimit()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            if exitCode(for: error) == .success {
                // --help and --version.
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            StandardError.writeLine("fulcrum: \(message(for: error))")
            Glibc.exit(2)
        }
    }
}

/// An input error: one line saying what is wrong and what is accepted.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum StandardError {
    static func writeLine(_ line: String) {
        var text = line.replacingNewlines() + "\n"
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

extension String {
    /// Error text on one line, whatever the message held.
    fileprivate func replacingNewlines() -> String {
        split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Raises the soft limit on open files to the hard one (at most 2^20),
/// as Go programs do at start: every relayed TCP connection holds two
/// descriptors, and the usual soft default of 1,024 would cap a TCP
/// listener near 500 connections while the hard limit allows far more.
/// An operator who wants a lower ceiling sets the hard limit.
private func raiseDescriptorLimit() {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = Swift.min(limit.rlim_max, 1 << 20)
    _ = setrlimit(resource, &limit)
}
