import FulcrumCore
import Testing

@Suite("Health state machine (HAProxy rise/fall)")
struct HealthStateMachineTests {
    /// (rise, fall) pairs, HAProxy's defaults first.
    static let pairs: [(Int, Int)] = [(2, 3), (1, 1), (1, 5), (3, 2), (10, 7)]

    @Test("the defaults are HAProxy's: rise 2, fall 3, start up")
    func defaults() throws {
        #expect(HealthStateMachine.defaultRise == 2)
        #expect(HealthStateMachine.defaultFall == 3)
        let machine = try HealthStateMachine()
        #expect(machine.rise == 2)
        #expect(machine.fall == 3)
        #expect(machine.status == .up)
        #expect(machine.reason == "initial state")
        #expect(machine.progress == 0)
    }

    @Test("an up backend goes down on exactly the fall-th failure in a row", arguments: pairs)
    func goesDownAfterFall(rise: Int, fall: Int) throws {
        var machine = try HealthStateMachine(rise: rise, fall: fall)
        for n in 1..<fall {
            #expect(machine.record(.failure(reason: "HTTP 500")) == nil)
            #expect(machine.status == .up)
            #expect(machine.progress == n)
        }
        let transition = machine.record(.failure(reason: "HTTP 500"))
        #expect(transition?.from == .up)
        #expect(transition?.to == .down)
        #expect(machine.status == .down)
        #expect(machine.progress == 0)
        #expect(machine.reason == transition?.reason)
    }

    @Test("a down backend comes up on exactly the rise-th success in a row", arguments: pairs)
    func comesUpAfterRise(rise: Int, fall: Int) throws {
        var machine = try HealthStateMachine(rise: rise, fall: fall, initial: .down)
        #expect(machine.status == .down)
        for n in 1..<rise {
            #expect(machine.record(.success()) == nil)
            #expect(machine.status == .down)
            #expect(machine.progress == n)
        }
        let transition = machine.record(.success(detail: "HTTP 200"))
        #expect(transition == HealthTransition(from: .down, to: .up, reason: "\(rise)/\(rise)"))
        #expect(machine.status == .up)
    }

    @Test("a success resets the failure count while up", arguments: pairs)
    func successResetsFailures(rise: Int, fall: Int) throws {
        var machine = try HealthStateMachine(rise: rise, fall: fall)
        for _ in 0..<3 {
            for _ in 1..<fall { #expect(machine.record(.failure(reason: "timeout after 2s")) == nil) }
            #expect(machine.record(.success()) == nil)
            #expect(machine.progress == 0)
        }
        #expect(machine.status == .up)
        for _ in 1..<fall { _ = machine.record(.failure(reason: "timeout after 2s")) }
        #expect(machine.record(.failure(reason: "timeout after 2s"))?.to == .down)
    }

    @Test("a failure resets the success count while down", arguments: pairs)
    func failureResetsSuccesses(rise: Int, fall: Int) throws {
        var machine = try HealthStateMachine(rise: rise, fall: fall, initial: .down)
        for _ in 0..<3 {
            for _ in 1..<rise { #expect(machine.record(.success()) == nil) }
            #expect(machine.record(.failure(reason: "connect refused")) == nil)
            #expect(machine.progress == 0)
        }
        #expect(machine.status == .down)
        for _ in 1..<rise { _ = machine.record(.success()) }
        #expect(machine.record(.success())?.to == .up)
    }

    @Test("results that agree with the status never cause a transition")
    func agreeingResults() throws {
        var machine = try HealthStateMachine()
        for _ in 0..<100 { #expect(machine.record(.success()) == nil) }
        var down = try HealthStateMachine(initial: .down)
        for _ in 0..<100 { #expect(down.record(.failure(reason: "HTTP 500")) == nil) }
        #expect(machine.status == .up && down.status == .down)
        #expect(down.reason == "initial state")
    }

    @Test("first_check: the first result decides at once; after a failure, rise counts as usual")
    func firstCheck() throws {
        var passes = try HealthStateMachine(rise: 3, fall: 3, initial: .firstCheck)
        #expect(passes.status == .down)
        #expect(passes.record(.success()) == HealthTransition(from: .down, to: .up, reason: "first check passed"))
        var fails = try HealthStateMachine(rise: 2, fall: 3, initial: .firstCheck)
        #expect(fails.record(.failure(reason: "http check: status 500")) == nil)
        #expect(fails.status == .down)
        #expect(fails.record(.success()) == nil)
        #expect(fails.record(.success())?.reason == "2/2")
    }

    @Test("reasons name the count and the last failure")
    func reasons() throws {
        var machine = try HealthStateMachine()
        _ = machine.record(.failure(reason: "connect refused"))
        _ = machine.record(.failure(reason: "timeout after 2s"))
        let down = machine.record(.failure(reason: "HTTP 500"))
        #expect(down == HealthTransition(from: .up, to: .down, reason: "HTTP 500, 3/3"))
        #expect(machine.reason == "HTTP 500, 3/3")
        // A failure while down leaves the reason alone.
        _ = machine.record(.failure(reason: "HTTP 503"))
        #expect(machine.reason == "HTTP 500, 3/3")
        _ = machine.record(.success())
        let up = machine.record(.success(detail: "HTTP 200"))
        #expect(up == HealthTransition(from: .down, to: .up, reason: "2/2"))
        #expect(machine.reason == "2/2")

        var single = try HealthStateMachine(rise: 1, fall: 1)
        #expect(single.record(.failure(reason: "timeout after 2s"))?.reason == "timeout after 2s, 1/1")
        #expect(single.record(.success())?.reason == "1/1")
    }

    @Test("rise and fall outside 1...1000 are rejected", arguments: [(0, 3), (2, 0), (-1, 3), (2, -5), (1001, 3), (2, 1001)])
    func invalidThresholds(rise: Int, fall: Int) {
        do {
            _ = try HealthStateMachine(rise: rise, fall: fall)
            Issue.record("rise \(rise) fall \(fall) was accepted")
        } catch {
            #expect(error.code == .invalidSetting)
            let (name, value) = (1...1000).contains(rise) ? ("fall", fall) : ("rise", rise)
            #expect(error.message == "health check \(name) is \(value); it must be a whole number from 1 to 1000")
        }
    }

    @Test("the bounds 1 and 1000 are accepted")
    func boundsAccepted() throws {
        let low = try HealthStateMachine(rise: 1, fall: 1)
        let high = try HealthStateMachine(rise: 1000, fall: 1000)
        #expect(low.rise == 1 && high.fall == 1000)
    }

    @Test("a full cycle up, down, up, down reports each transition once")
    func fullCycle() throws {
        var machine = try HealthStateMachine()
        let script: [CheckResult] =
            Array(repeating: .failure(reason: "HTTP 500"), count: 3)
            + Array(repeating: .success(), count: 2)
            + Array(repeating: .failure(reason: "connect refused"), count: 3)
        let transitions = script.compactMap { machine.record($0) }
        #expect(transitions.map(\.to) == [.down, .up, .down])
        #expect(transitions.map(\.from) == [.up, .down, .up])
        #expect(transitions.last?.reason == "connect refused, 3/3")
    }
}
