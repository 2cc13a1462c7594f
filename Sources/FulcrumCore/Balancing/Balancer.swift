import FulcrumHashing
import Synchronization

/// Builds an algorithm's plan for each pool snapshot and keeps what outlives
/// snapshots: the rotation counter, and the hash structure, which depends on
/// membership only and so survives health changes.
final class Balancer: Sendable {
    let algorithm: BalancingAlgorithm
    private let rotation = Rotation()
    private let cache = Mutex<CachedStructure?>(nil)

    private struct CachedStructure {
        var members: [Int]
        var structure: any ConsistentHash
        var backendByIndex: [Int]
    }

    init(algorithm: BalancingAlgorithm, backends: [Backend]) throws(CoreError) {
        try algorithm.validate()
        self.algorithm = algorithm
        if case .hash(.jump, _) = algorithm {
            let weights = Set(backends.filter { $0.weight > 0 }.map(\.weight))
            guard weights.count <= 1 else {
                throw CoreError(
                    code: .invalidAlgorithm,
                    message: "hash method jump gives every backend an equal share, but the weights differ "
                        + "(\(weights.sorted().map(String.init).joined(separator: ", "))); use ring, maglev or rendezvous"
                )
            }
        }
    }

    func makePlan(_ layout: PoolSnapshot.Layout) throws(CoreError) -> any PickPlan {
        switch algorithm {
        case .roundRobin:
            return RoundRobinPlan(rotation: rotation)
        case .weightedRoundRobin:
            return SmoothWeightedRoundRobinPlan(candidates: layout.candidates, backends: layout.backends, rotation: rotation)
        case .leastConnections:
            return LeastConnectionsPlan(rotation: rotation)
        case .leastResponseTime(let decay, let exploration):
            return LeastResponseTimePlan(decay: decay, explorationPercent: exploration)
        case .random:
            return RandomPlan()
        case .powerOfTwo:
            return PowerOfTwoPlan()
        case .first:
            return FirstPlan()
        case .ipHash(let prefix24):
            return try hashPlan(method: .ring, bound: nil, source: .client(prefix24: prefix24), layout)
        case .hash(let method, let bound):
            return try hashPlan(method: method, bound: bound, source: .requestKey, layout)
        }
    }

    private func hashPlan(
        method: HashAlgorithm,
        bound: Double?,
        source: HashKeySource,
        _ layout: PoolSnapshot.Layout
    ) throws(CoreError) -> any PickPlan {
        let members = layout.tierMembers
        let cached = try structure(method: method, members: members, backends: layout.backends)
        let candidateWeight = layout.candidates.reduce(0) { total, i in
            total + max(1, Int((Double(layout.backends[i].weight) * layout.weightFactors[i] * 1000).rounded()))
        }
        return try AnyHashPlan(
            cached.structure,
            members: cached.backendByIndex,
            bound: bound,
            source: source,
            candidateWeight: candidateWeight
        )
    }

    /// The structure over `members`, reused while membership is unchanged.
    private func structure(method: HashAlgorithm, members: [Int], backends: [Backend]) throws(CoreError)
        -> CachedStructure
    {
        if let cached = cache.withLock({ $0 }), cached.members == members { return cached }
        let nodes = members.enumerated().map { position, i in
            HashNode(backends[i].id, weight: backends[i].weight, id: position + 1)
        }
        let structure: any ConsistentHash
        do {
            structure = try method.make(nodes: nodes)
        } catch {
            throw CoreError(code: .invalidAlgorithm, message: error.message)
        }
        // Structures order their nodes their own way (by name, by id); map
        // each structure index back to its backend.
        var backendByIndex = [Int](repeating: -1, count: members.count)
        for i in members {
            let index = structure.index(ofNode: backends[i].id)!
            if index >= backendByIndex.count {
                backendByIndex += [Int](repeating: -1, count: index - backendByIndex.count + 1)
            }
            backendByIndex[index] = i
        }
        let entry = CachedStructure(members: members, structure: structure, backendByIndex: backendByIndex)
        cache.withLock { $0 = entry }
        return entry
    }
}
