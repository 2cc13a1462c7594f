import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How many event loops to run: one per CPU the process may actually use.
///
/// `System.coreCount` counts the machine's CPUs and ignores `taskset`
/// pinning; two loops sharing one CPU cost about 20% of req/s and tripled
/// p99 in the L7 issue's measurements. On Linux this reads the affinity mask
/// (`Cpus_allowed` in `/proc/self/status`) and takes the smaller count.
public enum CPUBudget {
    public static var eventLoopCount: Int {
        let machine = System.coreCount
        guard let allowed = allowedCPUs(), allowed > 0 else { return machine }
        return min(allowed, machine)
    }

    /// CPUs in this process's affinity mask, or nil where it cannot be read.
    static func allowedCPUs() -> Int? {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) >= 0 {
            let text = String(cString: line!)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            // A comma-separated hex mask, such as "ff,ffffffff".
            return text.dropFirst("Cpus_allowed:".count).reduce(0) { count, character in
                count + (character.hexDigitValue?.nonzeroBitCount ?? 0)
            }
        }
        #endif
        return nil
    }
}
