import FulcrumProxy
import NIOCore
import Testing

@Suite("CPU budget")
struct CPUBudgetTests {
    @Test("The event loop count follows the CPUs this process may use")
    func loopCount() {
        let count = CPUBudget.eventLoopCount
        #expect(count >= 1)
        #expect(count <= System.coreCount)
    }
}
