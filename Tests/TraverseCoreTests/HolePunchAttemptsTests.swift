import Testing
@testable import TraverseCore

@Suite struct HolePunchAttemptsTests {
    let relayedAt = Instant(nanoseconds: 5_000_000_000)
    func at(_ milliseconds: Int) -> Instant { relayedAt + .milliseconds(milliseconds) }

    @Test func rolesFollowTheSpecAndSwapOnTheLastAttempt() throws {
        #expect(HolePunchRole.initiator.connectionRole() == .server)
        #expect(HolePunchRole.responder.connectionRole() == .client)
        #expect(HolePunchRole.initiator.connectionRole(legacy: true) == .client)
        #expect(HolePunchRole.responder.connectionRole(legacy: true) == .server)

        var initiator = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
        var responder = HolePunchAttempts(role: .responder, relayedConnectionAt: relayedAt)
        var initiatorRoles: [ConnectionRole] = []
        var responderRoles: [ConnectionRole] = []
        for number in 1...3 {
            let a = try initiator.start(now: at(number * 100))
            let b = try responder.start(now: at(number * 100))
            #expect(a.number == number && b.number == number)
            #expect(a.usesSwappedRoles == (number == 3))
            // The two sides always take opposite roles.
            #expect(a.connectionRole != b.connectionRole)
            initiatorRoles.append(a.connectionRole)
            responderRoles.append(b.connectionRole)
            _ = try initiator.failed(.dialsFailed, now: at(number * 100 + 50))
            _ = try responder.failed(.dialsFailed, now: at(number * 100 + 50))
        }
        #expect(initiatorRoles == [.server, .server, .client])
        #expect(responderRoles == [.client, .client, .server])
    }

    @Test func noSwapWhenDisabledOrWithOneAttempt() throws {
        var policy = HolePunchAttemptPolicy()
        policy.swapsRolesOnLastAttempt = false
        let attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: .zero, policy: policy)
        #expect((1...3).map { attempts.connectionRole(forAttempt: $0) } == [.server, .server, .server])
        policy = HolePunchAttemptPolicy()
        policy.maximumAttempts = 1
        let single = HolePunchAttempts(role: .initiator, relayedConnectionAt: .zero, policy: policy)
        #expect(single.connectionRole(forAttempt: 1) == .server)
    }

    @Test func threeFailedAttemptsGiveUp() throws {
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
        for number in 1...3 {
            _ = try attempts.start(now: at(number * 1_000))
            try attempts.dialStarted(now: at(number * 1_000 + 100))
            let decision = try attempts.failed(.dialsFailed, now: at(number * 1_000 + 200))
            if number < 3 {
                #expect(decision == .tryAgain(nextAttempt: number + 1))
            } else {
                let failure = HolePunchFailure(attempts: 3, lastFailure: .dialsFailed, elapsed: .milliseconds(3_200))
                #expect(decision == .gaveUp(failure))
                #expect(attempts.failure == failure)
            }
        }
        #expect(attempts.history.count == 3 && attempts.history.allSatisfy { $0.failure == .dialsFailed })
        #expect(attempts.isFinished && attempts.attemptsMade == 3)
        #expect(throws: HolePunchAttemptsUsageError.finished) { try attempts.start(now: at(9_000)) }
        #expect(attempts.failure?.description == "hole punch failed after 3 attempts: every hole-punch dial failed")
    }

    @Test func successRecordsTheTimeToDirect() throws {
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
        _ = try attempts.start(now: at(200))
        _ = try attempts.failed(.exchange(.timeout), now: at(10_200))
        let second = try attempts.start(now: at(10_300))
        try attempts.dialStarted(now: at(10_400))
        let succeeded = attempts.succeeded(now: at(10_450))
        let success = try #require(succeeded)
        #expect(success == HolePunchSuccess(attempt: 2, timeToDirect: .milliseconds(10_450)))
        #expect(attempts.success == success && attempts.isFinished && attempts.nextDeadline == nil)
        #expect(attempts.history.map(\.failure) == [.exchange(.timeout), nil])
        #expect(attempts.history.last?.attempt == second)
        #expect(attempts.succeeded(now: at(11_000)) == nil)
        #expect(throws: HolePunchAttemptsUsageError.finished) { try attempts.failed(.dialsFailed, now: at(11_000)) }
    }

    @Test func aDirectConnectionBeforeAnyAttemptCounts() {
        var attempts = HolePunchAttempts(role: .responder, relayedConnectionAt: relayedAt)
        #expect(attempts.succeeded(now: at(30)) == HolePunchSuccess(attempt: 0, timeToDirect: .milliseconds(30)))
        #expect(attempts.history.isEmpty)
    }

    @Test func dialTimeoutFailsTheAttempt() throws {
        var policy = HolePunchAttemptPolicy()
        policy.dialTimeout = .seconds(2)
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt, policy: policy)
        _ = try attempts.start(now: at(0))
        #expect(attempts.nextDeadline == nil)
        try attempts.dialStarted(now: at(100))
        #expect(attempts.nextDeadline == at(2_100))
        try attempts.dialStarted(now: at(500))  // already dialing: the deadline stays
        #expect(attempts.nextDeadline == at(2_100))
        #expect(attempts.handleTimeout(now: at(2_099)) == nil)
        #expect(attempts.handleTimeout(now: at(2_100)) == .tryAgain(nextAttempt: 2))
        #expect(attempts.history.last?.failure == .dialTimedOut)
        #expect(attempts.nextDeadline == nil && attempts.currentAttempt == nil)
    }

    @Test func finalFailuresStopAtOnce() throws {
        let finals: [HolePunchAttemptFailure] = [
            .protocolNotSupported, .streamFailed, .exchange(.noDialableAddresses(received: 2)),
            .exchange(.noLocalAddresses), .exchange(.unexpectedMessage(.sync)), .exchange(.malformedMessage(.missingType)),
        ]
        for reason in finals {
            var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
            _ = try attempts.start(now: at(0))
            #expect(try attempts.failed(reason, now: at(10))
                == .gaveUp(HolePunchFailure(attempts: 1, lastFailure: reason, elapsed: .milliseconds(10))), "\(reason)")
        }
        for reason in [HolePunchAttemptFailure.dialsFailed, .dialTimedOut, .exchange(.timeout)] {
            #expect(!reason.isFinal)
        }
    }

    @Test func relayedConnectionClosing() throws {
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
        _ = try attempts.start(now: at(0))
        let failure = attempts.relayedConnectionClosed(now: at(70))
        #expect(failure == HolePunchFailure(attempts: 1, lastFailure: .relayedConnectionClosed, elapsed: .milliseconds(70)))
        #expect(attempts.history.map(\.failure) == [.relayedConnectionClosed])
        #expect(attempts.relayedConnectionClosed(now: at(80)) == nil)

        var idle = HolePunchAttempts(role: .responder, relayedConnectionAt: relayedAt)
        #expect(idle.relayedConnectionClosed(now: at(5))?.attempts == 0)
    }

    @Test func misuseIsATypedErrorAndChangesNothing() throws {
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: relayedAt)
        #expect(throws: HolePunchAttemptsUsageError.noAttemptInProgress) { try attempts.dialStarted(now: at(0)) }
        #expect(throws: HolePunchAttemptsUsageError.noAttemptInProgress) { try attempts.failed(.dialsFailed, now: at(0)) }
        let first = try attempts.start(now: at(0))
        #expect(throws: HolePunchAttemptsUsageError.attemptInProgress) { try attempts.start(now: at(1)) }
        #expect(attempts.currentAttempt == first && attempts.attemptsMade == 1)
    }

    @Test func policyIsClamped() throws {
        var policy = HolePunchAttemptPolicy()
        policy.maximumAttempts = 0
        var attempts = HolePunchAttempts(role: .initiator, relayedConnectionAt: .zero, policy: policy)
        _ = try attempts.start(now: .zero)
        #expect(try attempts.failed(.dialsFailed, now: .zero) == .gaveUp(HolePunchFailure(attempts: 1, lastFailure: .dialsFailed, elapsed: .zero)))
    }
}
