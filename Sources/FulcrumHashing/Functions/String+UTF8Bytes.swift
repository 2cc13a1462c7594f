extension String {
    /// Calls `body` with the string's UTF-8 bytes, the input every String
    /// overload of the hash functions hashes.
    ///
    /// Native Swift strings (every string on Linux, and most elsewhere) are
    /// stored as contiguous UTF-8, so this does not allocate; a bridged
    /// `NSString` is copied into native storage first. No normalisation is
    /// applied: canonically equivalent strings with different code units hash
    /// differently, as in every other implementation.
    @inlinable
    package func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
