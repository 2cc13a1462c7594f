#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a file descriptor in large blocks, handing each line's
/// bytes (without its `\n` or `\r\n`) to a closure, without creating Strings.
struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0

    init(fd: Int32 = 0, blockSize: Int = 1 << 16) {
        self.fd = fd
        buffer = [UInt8](repeating: 0, count: blockSize)
    }

    /// Calls `body` for every line until end of input.
    mutating func forEachLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var searchFrom = start
            while true {
                let newline = buffer.withUnsafeBytes { bytes -> Int? in
                    guard searchFrom < end,
                        let found = memchr(bytes.baseAddress! + searchFrom, 0x0A, end - searchFrom)
                    else { return nil }
                    return bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                }
                guard let newline else { break }
                try emit(from: start, to: newline, body)
                start = newline + 1
                searchFrom = start
            }
            // Keep the partial line, growing the buffer if one line fills it.
            if start > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if end == buffer.count {
                buffer += [UInt8](repeating: 0, count: buffer.count)
            }
            let count = buffer.withUnsafeMutableBytes { bytes in
                read(fd, bytes.baseAddress! + end, bytes.count - end)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw UsageError("cannot read standard input (errno \(errno))")
            }
            if count == 0 {
                if end > start { try emit(from: start, to: end, body) }
                start = 0
                end = 0
                return
            }
            end += count
        }
    }

    private func emit(from lower: Int, to upper: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var upper = upper
        if upper > lower && buffer[upper - 1] == 0x0D { upper -= 1 }
        try buffer.withUnsafeBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[lower..<upper]))
        }
    }
}

/// Buffers output and writes it to standard output in large blocks.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    private let flushAt = 1 << 16

    init() { bytes.reserveCapacity(flushAt + 1024) }

    mutating func append(_ line: [UInt8]) {
        bytes.append(contentsOf: line)
        if bytes.count >= flushAt { flush() }
    }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= flushAt { flush() }
    }

    mutating func flush() {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(1, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
