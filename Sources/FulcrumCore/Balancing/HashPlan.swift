import FulcrumHashing

/// Consistent hashing on a request key (`hash`) or on the client address
/// (`ip-hash`), over FulcrumHashing's structures.
///
/// The structure is built over every weighted backend of the serving tier,
/// healthy or not. A key whose backend cannot take it walks on to the next
/// distinct backend in its preference order, so a backend going down or
/// draining moves only its own keys, and they come back when it returns.
///
/// Slow start works here too, which neither Envoy (issue #37484) nor nginx
/// OSS offers: a ramping backend at factor f keeps the keys whose
/// per-backend coin, a fixed function of the key and the backend, falls below
/// f; the rest walk on. Each key's placement is stable at a given f, and the
/// backend's share grows with f. With bounded loads, capacity uses the ramped
/// weight.
///
/// - Complexity: One hash of the key and the structure's lookup, O(1) for
///   ring, maglev and jump, O(n) for rendezvous. Walking past unavailable
///   backends costs O(1) each. With a bound, computing the total load is O(n).
struct HashPlan<Structure: ConsistentHash>: PickPlan {
    let structure: Structure
    /// Structure index → backend index.
    let members: [Int]
    let bounded: BoundedLoads<Structure>?
    let source: HashKeySource
    /// Σ effective weight of the candidates, in thousandths: bounded loads'
    /// denominator, fixed per snapshot as HAProxy's `tot_weight` is.
    let candidateWeight: Int

    init(
        structure: Structure,
        members: [Int],
        bound: Double?,
        source: HashKeySource,
        candidateWeight: Int
    ) throws(CoreError) {
        self.structure = structure
        self.members = members
        self.source = source
        self.candidateWeight = candidateWeight
        if let bound {
            do {
                bounded = try BoundedLoads(structure, factor: bound)
            } catch {
                throw CoreError(code: .invalidAlgorithm, message: error.message)
            }
        } else {
            bounded = nil
        }
    }

    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        switch source {
        case .requestKey:
            guard let key = context.hashKey else { return .backend(pool.randomUntried(&context)) }
            return pick(key: key, pool: pool, context: &context)
        case .client(let prefix24):
            guard let client = context.client else { return .backend(pool.randomUntried(&context)) }
            let address = prefix24 ? client.withIPv4Prefix24 : client
            return address.withBytes { pick(key: $0, pool: pool, context: &context) }
        }
    }

    private func pick(key: UnsafeRawBufferPointer, pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        let keyHash = XXHash64.hash(key, seed: 0x5EED)
        if let bounded {
            return pickBounded(key: key, keyHash: keyHash, bounded: bounded, pool: pool, context: context)
        }
        var chosen = -1
        structure.forEachCandidate(forKey: key) { index in
            let i = members[index]
            guard pool.acceptsKeyed(i), !context.tried.contains(i), Self.keeps(keyHash, i, pool) else { return true }
            chosen = i
            return false
        }
        return .backend(chosen >= 0 ? chosen : pool.randomUntried(&context))
    }

    /// Bounded loads over the backends' in-flight counts, with capacities
    /// from their ramped weights. Backends that cannot take the key, or that
    /// are ramping and do not keep it, get weight 0, which bounded loads
    /// passes over.
    ///
    /// - Complexity: O(n) to sum the in-flight counts, then the walk.
    private func pickBounded(
        key: UnsafeRawBufferPointer,
        keyHash: UInt64,
        bounded: BoundedLoads<Structure>,
        pool: PoolSnapshot,
        context: PickContext
    ) -> PickResult {
        var totalLoad = 0
        for i in members where i >= 0 { totalLoad += pool.backends[i].load.inFlight }
        let members = self.members
        let index = bounded.index(
            forKey: key,
            load: { pool.backends[members[$0]].load.inFlight },
            totalLoad: totalLoad,
            weight: { index in
                let i = members[index]
                guard pool.acceptsKeyed(i), !context.tried.contains(i), Self.keeps(keyHash, i, pool) else { return 0 }
                // Thousandths keep slow start's fractions.
                return max(1, Int((pool.effectiveWeight(i) * 1000).rounded()))
            },
            totalWeight: candidateWeight
        )
        guard let index, members[index] >= 0 else { return .backend(pool.candidates[0]) }
        return .backend(members[index])
    }

    /// Whether a ramping backend keeps this key: a fixed coin per (key,
    /// backend) compared with the slow-start factor.
    @inline(__always)
    private static func keeps(_ keyHash: UInt64, _ i: Int, _ pool: PoolSnapshot) -> Bool {
        let factor = pool.weightFactors[i]
        guard factor < 1 else { return true }
        let coin = SplitMix64.mix(keyHash &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
        return Double(coin >> 11) * 0x1.0p-53 < factor
    }
}

/// Where a hash plan takes its key from.
enum HashKeySource: Sendable {
    /// The request's key (`PickContext.hashKey`): `hash`.
    case requestKey
    /// The client's address: `ip-hash`.
    case client(prefix24: Bool)
}

/// A hash plan over a structure type known at compile time, so that each
/// case runs specialized code rather than generic code through witness
/// tables (which costs several times the lookup itself).
enum AnyHashPlan: PickPlan {
    case ring(HashPlan<HashRing>)
    case ketama(HashPlan<KetamaRing>)
    case nginx(HashPlan<NginxConsistentHash>)
    case haproxy(HashPlan<HAProxyConsistentHash>)
    case maglev(HashPlan<MaglevTable>)
    case jump(HashPlan<JumpHash>)
    case rendezvous(HashPlan<RendezvousHash>)
    case modulo(HashPlan<ModuloHash>)

    init(
        _ structure: any ConsistentHash,
        members: [Int],
        bound: Double?,
        source: HashKeySource,
        candidateWeight: Int
    ) throws(CoreError) {
        func plan<S: ConsistentHash>(_ s: S) throws(CoreError) -> HashPlan<S> {
            try HashPlan(structure: s, members: members, bound: bound, source: source, candidateWeight: candidateWeight)
        }
        switch structure {
        case let s as HashRing: self = .ring(try plan(s))
        case let s as KetamaRing: self = .ketama(try plan(s))
        case let s as NginxConsistentHash: self = .nginx(try plan(s))
        case let s as HAProxyConsistentHash: self = .haproxy(try plan(s))
        case let s as MaglevTable: self = .maglev(try plan(s))
        case let s as JumpHash: self = .jump(try plan(s))
        case let s as RendezvousHash: self = .rendezvous(try plan(s))
        case let s as ModuloHash: self = .modulo(try plan(s))
        default:
            throw CoreError(code: .invalidAlgorithm, message: "unsupported hash structure \(type(of: structure))")
        }
    }

    func pick(in pool: PoolSnapshot, context: inout PickContext) -> PickResult {
        switch self {
        case .ring(let plan): plan.pick(in: pool, context: &context)
        case .ketama(let plan): plan.pick(in: pool, context: &context)
        case .nginx(let plan): plan.pick(in: pool, context: &context)
        case .haproxy(let plan): plan.pick(in: pool, context: &context)
        case .maglev(let plan): plan.pick(in: pool, context: &context)
        case .jump(let plan): plan.pick(in: pool, context: &context)
        case .rendezvous(let plan): plan.pick(in: pool, context: &context)
        case .modulo(let plan): plan.pick(in: pool, context: &context)
        }
    }
}
