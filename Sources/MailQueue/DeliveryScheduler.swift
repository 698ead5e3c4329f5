#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import NIOPosix

/// The queue runner's counters (DESIGN.md "Observability").
enum SchedulerMetrics {
    static let delivered = Counter(label: "courier_deliveries_total", dimensions: [("result", "delivered")])
    static let deferred = Counter(label: "courier_deliveries_total", dimensions: [("result", "deferred")])
    static let failed = Counter(label: "courier_deliveries_total", dimensions: [("result", "failed")])
}

/// Runs delivery attempts for a `DurableQueue`: due messages go to the transport on the
/// thread pool (never on an event loop); deferrals are rescheduled with Courier's retry
/// timing; expired or failed recipients bounce through the `BounceHandler` hook.
public actor DeliveryScheduler {
    let queue: DurableQueue
    let agent: any DeliveryAgent
    let bounces: (any BounceHandler)?
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// How often `incoming/` is rescanned for `sendmail` drops.
    let incomingInterval: Int64
    private var wakeup: CheckedContinuation<Void, Never>?
    private var woken = false
    private var running = 0
    /// Where transports run: their own threads, so a delivery blocked in fsync never holds
    /// up the queue log's group commit (which uses the queue's pool) nor other servers.
    let deliveryPool: NIOThreadPool
    /// The backscatter suppression list that tracked messages' results go to (nil: none).
    let suppression: SuppressionStore?

    /// The process' delivery threads (a static is never deinitialised, so it is never shut down).
    static let sharedDeliveryPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    public init(queue: DurableQueue, agent: any DeliveryAgent, bounces: (any BounceHandler)? = nil, logger: Logger,
                incomingInterval: Int64 = 1, clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) },
                deliveryPool: NIOThreadPool? = nil, suppression: SuppressionStore? = nil) {
        self.deliveryPool = deliveryPool ?? Self.sharedDeliveryPool
        self.suppression = suppression
        self.queue = queue
        self.agent = agent
        self.bounces = bounces
        self.logger = logger
        self.clock = clock
        self.incomingInterval = incomingInterval
    }

    /// Delivers until the task is cancelled.
    public func run() async {
        await queue.setWakeHandler { [weak self] in
            guard let self else { return }
            Task { await self.wake() }
        }
        var lastIncomingScan: Int64 = 0
        await withTaskGroup(of: Void.self) { group in
            // One ticker for the whole run (drops, control files, retries coming due) instead
            // of a sleeping timer task per wait: those piled up in the timer heap, one per
            // message, and cost more CPU than the deliveries.
            let interval = UInt64(max(incomingInterval, 1)) * 1_000_000_000
            group.addTask { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: interval)
                    await self?.wake()
                }
            }
            while !Task.isCancelled {
                let now = clock()
                if now - lastIncomingScan >= incomingInterval {
                    lastIncomingScan = now
                    do { try await queue.scanIncoming() } catch {
                        logger.error("queue: cannot import sendmail drops: \(error)")
                    }
                    do { try await queue.processControl() } catch {
                        logger.error("queue: cannot read control commands: \(error)")
                    }
                    await queue.syncBookkeeping()
                }
                let limit = max(0, queue.settings.maximumDeliveries - running)
                let due = await queue.claimDue(now: now, limit: limit)
                for message in due {
                    running += 1
                    group.addTask { await self.attempt(message) }
                }
                // Nothing to start now: wait for a new message, a finished attempt or the ticker.
                if due.isEmpty || running >= queue.settings.maximumDeliveries {
                    await waitForWork()
                }
            }
            group.cancelAll()
        }
    }

    /// Runs one pass over every due message now and waits for it (tests, `courier flush`).
    public func runOnce() async {
        let due = await queue.claimDue(now: clock(), limit: Int.max)
        for message in due { await attempt(message) }
    }

    func wake() {
        woken = true
        if let wakeup {
            self.wakeup = nil
            wakeup.resume()
        }
    }

    private func waitForWork() async {
        if woken {
            woken = false
            return
        }
        await withCheckedContinuation { continuation in
            wakeup = continuation
        }
        woken = false
    }

    private func finishedAttempt() {
        running -= 1
        wake()
    }

    /// One delivery pass over a message's pending recipients.
    func attempt(_ message: LiveMessage) async {
        defer { finishedAttempt() }
        let header = message.header
        let body: [UInt8]
        do {
            body = try await queue.body(of: message)
        } catch {
            logger.error("id=\(header.id): cannot read queued message: \(error)")
            return await reschedule(message, body: nil, failed: [], delivered: [], deferred: [:])
        }
        var state = message.state
        var failed: [FailedRecipient] = []
        var delivered: [DeliveredRecipient] = []
        var deferred: [Int: String] = [:]
        // cancelmsg: the pending recipients fail with the reason, nothing is delivered.
        if let reason = message.cancelReason {
            for index in state.recipients.indices where state.recipients[index] == .pending {
                state.recipients[index] = .failed
                SchedulerMetrics.failed.increment()
                failed.append(FailedRecipient(index: index, recipient: header.envelope.recipients[index], reason: reason))
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,addr=<\(header.envelope.recipients[index].address)>: bounced: \(reason)")
            }
        }
        let pending = state.recipients.indices.filter { state.recipients[$0] == .pending }
        // spec/mta.md §4.7: once warned (the `w` record), esmtp mail goes to `backuprelay`.
        let backupRelay = state.warned ? queue.settings.backupRelay : nil
        let requests = pending.map {
            var request = DeliveryRequest(header: header, body: body, recipientIndex: $0, mayBeRepeat: message.recovered)
            request.backupRelay = backupRelay
            return request
        }
        // The scheduler's own delivery threads (fsyncs never hold the queue log's thread).
        let outcomes = await agent.deliver(batch: requests, threadPool: deliveryPool)
        // Before the log lines: whoever reads a result in the log finds it on the list.
        if header.envelope.tracked, let suppression {
            await track(zip(pending, outcomes).map { index, outcome in
                let result: SuppressionList.Result
                switch outcome {
                case .delivered, .relayed: result = .delivered
                case .deferred: result = .deferred
                case .failed, .rejected: result = .failed
                }
                return (header.envelope.recipients[index].address, result)
            }, in: suppression, id: header.id)
        }
        for (index, outcome) in zip(pending, outcomes) {
            let address = header.envelope.recipients[index].address
            switch outcome {
            case let .delivered(text), let .relayed(text, _, _, _):
                state.recipients[index] = .delivered
                var success = DeliveredRecipient(index: index, recipient: header.envelope.recipients[index], text: text)
                if case let .relayed(_, reply, remoteMTA, passedOn) = outcome {
                    (success.reply, success.relayedTo, success.dsnPassedOn) = (reply, remoteMTA, passedOn)
                }
                delivered.append(success)
                SchedulerMetrics.delivered.increment()
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,addr=<\(address)>,size=\(body.count): delivered: \(text)")
            case let .deferred(text):
                deferred[index] = text
                SchedulerMetrics.deferred.increment()
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,addr=<\(address)>: deferred: \(text)")
            case let .failed(text), let .rejected(text, _, _):
                state.recipients[index] = .failed
                SchedulerMetrics.failed.increment()
                var remoteMTA: String?
                var command: String?
                if case let .rejected(_, host, said) = outcome { (remoteMTA, command) = (host, said.isEmpty ? nil : said) }
                failed.append(FailedRecipient(index: index, recipient: header.envelope.recipients[index], reason: text,
                                              remoteMTA: remoteMTA, command: command))
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,addr=<\(address)>: bounced: \(text)")
            }
        }
        var updated = message
        updated.state = state
        await reschedule(updated, body: body, failed: failed, delivered: delivered, deferred: deferred)
    }

    /// spec/mta.md §4.10: the results of a tracked message's recipients go to the suppression
    /// list (a file: written on the delivery threads).
    private func track(_ results: [(address: String, result: SuppressionList.Result)], in store: SuppressionStore,
                       id: QueueID) async {
        do {
            try await deliveryPool.runIfActive { try store.record(results) }
        } catch {
            logger.error("id=\(id): cannot update the backscatter suppression list \(store.path): \(error)")
        }
    }

    /// `body`: the message's bytes when the pass read them (nil: read again if a report needs them).
    /// `deferred`: this pass' deferral text per recipient index.
    private func reschedule(_ message: LiveMessage, body: [UInt8]?, failed: [FailedRecipient],
                            delivered: [DeliveredRecipient], deferred: [Int: String]) async {
        let header = message.header
        var state = message.state
        var failed = failed
        let now = clock()
        state.passes += 1
        if state.recipients.contains(.pending) && now >= header.expires {
            for index in state.recipients.indices where state.recipients[index] == .pending {
                state.recipients[index] = .failed
                // spec/mta.md §4.9: the final report shows the last attempt's trouble.
                var reason = "Message expired: undeliverable for longer than queuetime."
                if let last = deferred[index] { reason += " Last attempt: \(last)" }
                failed.append(FailedRecipient(index: index, recipient: header.envelope.recipients[index], reason: reason))
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,addr=<\(header.envelope.recipients[index].address)>: bounced: \(reason)")
            }
        }
        var body = body
        if !failed.isEmpty || !delivered.isEmpty, let bounces {
            if body == nil { body = (try? await queue.body(of: message)) ?? [] }
            await bounces.bounce(header, body: body ?? [], failed: failed, delivered: delivered)
        }
        if state.recipients.contains(.pending) {
            state.nextAttempt = now + Int64(queue.settings.retry.delay(afterPasses: state.passes))
            // spec/mta.md §4.7 step 2: the first pass to end `warntime` after submission sends the
            // delayed-mail warning, once (not for an expired message: that bounced above).
            let warnTime = queue.settings.warnTime
            let warnDue = !state.warned && warnTime > 0 && now >= header.submitted + Int64(warnTime)
            if warnDue, let relay = queue.settings.backupRelay {
                // spec/mta.md §4.7 step 2: with `backuprelay`, no warning: mark the message and
                // send it again at once, now by way of the backup relay.
                state.warned = true
                state.nextAttempt = now
                logger.info("id=\(header.id): undelivered after warntime, rerouted to backuprelay \(relay)")
            } else if warnDue, let bounces {
                if body == nil { body = (try? await queue.body(of: message)) ?? [] }
                let delayed = state.recipients.indices.filter { state.recipients[$0] == .pending }.map {
                    DelayedRecipient(index: $0, recipient: header.envelope.recipients[$0],
                                     reason: deferred[$0] ?? "Delivery has not been attempted yet.")
                }
                var warnedState = state
                warnedState.warned = true
                if await bounces.warn(header, body: body ?? [], delayed: delayed, warnedState: warnedState) {
                    state.warned = true
                }
            }
        }
        do {
            try await queue.finish(header.id, state: state)
            if !state.recipients.contains(.pending) {
                logger.info("id=\(header.id): completed")
            }
        } catch {
            logger.error("id=\(header.id): cannot record delivery state: \(error)")
        }
    }
}
