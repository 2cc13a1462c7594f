import FulcrumCore

extension SnapshotReader {
    /// A pick for an L4 connection or UDP flow, whose only key is its client.
    ///
    /// `ip-hash` reads `context.client`; `hash` hashes the address bytes in
    /// network order, followed by the port in network order when
    /// `includePort` (`hash_key: ip_port`). The key lives on the stack.
    mutating func pickL4(
        _ context: inout PickContext,
        client: ProxyEndpoint?,
        includePort: Bool,
        algorithm: BalancingAlgorithm
    ) -> PickResult {
        context.client = client?.address
        guard let client, case .hash = algorithm else { return pick(&context) }
        return client.address.withBytes { address in
            withUnsafeTemporaryAllocation(byteCount: address.count + 2, alignment: 1) { key in
                key.copyMemory(from: address)
                key[address.count] = UInt8(client.port >> 8)
                key[address.count + 1] = UInt8(truncatingIfNeeded: client.port)
                context.hashKey = UnsafeRawBufferPointer(rebasing: key[..<(includePort ? address.count + 2 : address.count)])
                defer { context.hashKey = nil }
                return pick(&context)
            }
        }
    }
}
