import NIOCore

/// A timeout whose deadline mostly moves later, as a connection's idle and
/// backend timeouts do with every request.
///
/// Scheduling and cancelling an event-loop task per request allocates and
/// touches the loop's timer heap; here a moved deadline costs nothing until
/// the timer fires, finds the deadline later than itself and re-arms for
/// it. Only a deadline earlier than the pending timer reschedules. Use on
/// one event loop only.
struct DeadlineTimer {
    /// When the timeout expires; nil when nothing is being timed.
    var deadline: NIODeadline?
    private var task: Scheduled<Void>?
    private var firesAt = NIODeadline.distantFuture

    /// Moves the deadline. Returns true when the timer must be (re)armed
    /// with ``schedule(on:onFire:)``: no timer is pending, or the pending
    /// one fires after the new deadline. Split in two so that the common
    /// case builds no closure.
    mutating func move(to deadline: NIODeadline) -> Bool {
        self.deadline = deadline
        return task == nil || firesAt > deadline
    }

    /// Arms the timer for the current deadline.
    mutating func schedule(on loop: any EventLoop, onFire: @escaping () -> Void) {
        guard let deadline else { return }
        schedule(deadline, on: loop, onFire)
    }

    /// Called from `onFire`: whether the deadline has passed. If it has
    /// moved later, the timer re-arms for it and this returns false.
    mutating func expired(on loop: any EventLoop, onFire: @escaping () -> Void) -> Bool {
        task = nil
        guard let deadline else { return false }
        if NIODeadline.now() < deadline {
            schedule(deadline, on: loop, onFire)
            return false
        }
        return true
    }

    mutating func cancel() {
        task?.cancel()
        task = nil
        deadline = nil
    }

    private mutating func schedule(_ deadline: NIODeadline, on loop: any EventLoop, _ onFire: @escaping () -> Void) {
        task?.cancel()
        firesAt = deadline
        task = loop.assumeIsolated().scheduleTask(deadline: deadline, onFire)
    }
}
