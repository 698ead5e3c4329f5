#if canImport(Glibc)
import Glibc
#endif
import MailAuthCore
import MailCore
import Delivery
import Logging
import MailConfig
import MailQueue
import NIOCore
import NIOSSL
import ListenerSupport
import SMTP

/// The message data of a connection (DATA and BDAT): opening the queue submission, header
/// checks, streaming bytes into it with back-pressure, and the commit that earns the 250.
extension SMTPConnectionHandler {
    // MARK: data

    func openSubmission(_ transaction: SMTPTransaction, context: ChannelHandlerContext) {
        let lookup = environment.lookup
        var built = QueueEnvelope(transaction, clientAddress: clientIP, heloName: session.heloName,
                                     authenticatedUser: session.authenticatedUser,
                                     rewrite: { $0.contains("%") ? lookup.percentRelayTarget($0) : nil })
        // Courier's message source (spec/mta.md §4.10): `authsmtp` for a client that may relay.
        built.source = BackscatterSuppression.source(relayClient: relayAllowed)
        built.tracked = environment.backscatter?.tracks(built.source) ?? false
        let envelope = built
        let queue = environment.queue
        let received = ReceivedHeader.make(
            helo: session.heloName, clientIP: clientIP, me: environment.configuration.hostname,
            extended: session.isExtended, tls: session.tlsActive, authenticatedUser: session.authenticatedUser,
            mechanism: session.authenticatedMechanism, smtputf8: transaction.parameters.smtputf8, date: RFC5322Date.now().formatted)
        // spec/mta.md §2.13: Received-SPF fields go above Received, Authentication-Results below.
        let trace = senderHeaders.map { $0 + "\n" }.joined() + received + allowResults
        if let submission = queue.submitNow(envelope), submission.writeInMemory(Array(trace.utf8)) {
            // The queue is open and the trace fits in memory: no task hop.
            submissionOpened(.success(submission), context: context)
            return
        }
        runAsync(context: context, { () -> Result<any MessageSubmission, QueueError> in
            do {
                let submission = try await queue.submit(envelope)
                try await submission.write(Array(trace.utf8))
                return .success(submission)
            } catch let error as QueueError {
                return .failure(error)
            } catch {
                return .failure(.temporaryFailure("\(error)"))
            }
        }, then: { handler, context, result in
            handler.submissionOpened(result, context: context)
        })
    }

    func submissionOpened(_ result: Result<any MessageSubmission, QueueError>, context: ChannelHandlerContext) {
        switch result {
        case .success(let submission):
            self.submission = submission
            writeChain = context.eventLoop.makeSucceededVoidFuture()
            writeFailed = nil
            let limits = environment.configuration.limits
            headerInspector = HeaderInspector(byteLimit: environment.headerLimit)
            fieldRenamer = HeaderFieldRenamer(renaming: environment.renamedFields)
            chunkDecoder = nil
            fromRefusal = nil
            checksFromHeader = environment.senderPolicy.checksFromHeader(relayClient: relayAllowed,
                                                                         mailFromPassed: mailFromPassedSPF)
            let action = session.submissionOpened()
            // DATA reads through the dot decoder; BDAT's `receiveChunk` sets up the chunk decoder.
            if session.isReceivingData { decoder = DataDecoder(sizeLimit: limits.messageSize, lineLimit: limits.dataLine) }
            perform(action, context: context)
        case .failure(let error):
            environment.logger.error("queue refused a submission from \(clientIP): \(error)")
            perform(session.submissionFailed(Self.reply(for: error)), context: context)
        }
    }

    /// What follows a run of decoded message bytes.
    enum AfterBytes {
        /// More data to come.
        case more
        /// DATA's end line came.
        case dataEnded(DataDecoder.Outcome)
        /// The current BDAT chunk was read whole.
        case chunkEnded
    }

    /// Decoded message bytes (DATA or BDAT): watched (header limits, the `From:` check),
    /// header fields renamed, sent to the queue; then `after`. At the end of the header section
    /// a `BOFHSPFFROM` check holds the rest back until it has answered.
    func receiveMessageBytes(_ chunk: [UInt8], after: AfterBytes, context: ChannelHandlerContext) {
        if !chunk.isEmpty {
            let headerEnd = headerInspector.feed(chunk)
            if checksFromHeader, let headerEnd {
                storeMessageBytes(Array(chunk[..<headerEnd]), context: context)
                checkFromHeader(then: Array(chunk[headerEnd...]), after: after, context: context)
                return
            }
            storeMessageBytes(chunk, context: context)
        }
        switch after {
        case .more:
            return
        case .dataEnded(let outcome):
            flushRenamer(context: context)
            if checksFromHeader {
                // A message without a body: its header section ends with the data.
                checkFromHeader(then: [], after: after, context: context)
                return
            }
            finishData(outcome: outcome, context: context)
        case .chunkEnded:
            chunkEnded(context: context)
        }
    }

    func storeMessageBytes(_ bytes: [UInt8], context: ChannelHandlerContext) {
        let renamed = fieldRenamer.feed(bytes)
        // After a From: refusal the rest of the data is read and dropped (Courier's submit).
        if !renamed.isEmpty && fromRefusal == nil { writeToSubmission(renamed, context: context) }
    }

    func flushRenamer(context: ChannelHandlerContext) {
        let held = fieldRenamer.finish()
        if !held.isEmpty && fromRefusal == nil { writeToSubmission(held, context: context) }
    }

    /// spec/mta.md §2.15: the `From:` address's SPF check, once the header section is known.
    /// Its `Received-SPF:` goes at the end of the header section, as Courier's submit puts it.
    func checkFromHeader(then rest: [UInt8], after: AfterBytes, context: ChannelHandlerContext) {
        checksFromHeader = false
        guard headerInspector.withinLimit,
              let address = SenderPolicy.fromHeaderAddress(in: headerInspector.headerSection) else {
            receiveMessageBytes(rest, after: after, context: context)
            return
        }
        let policy = environment.senderPolicy
        let client = SenderPolicy.Client(ip: clientIP, heloName: session.heloName, relayClient: relayAllowed,
                                         blocked: !block.isEmpty, allowListed: allowListed)
        runAsync(context: context, { await policy.checkFromHeader(address, client: client) }, then: { handler, context, verdict in
            if let refusal = verdict.refusal {
                handler.fromRefusal = refusal
            } else {
                let fields = verdict.headers.map { $0 + "\n" }.joined()
                handler.writeToSubmission(Array(fields.utf8), context: context)
            }
            handler.receiveMessageBytes(rest, after: after, context: context)
        })
    }

    /// The current BDAT chunk was read whole: the LAST one ends the data as DATA's end line
    /// does (same checks, 250 only after the commit); any other is answered at once.
    func chunkEnded(context: ChannelHandlerContext) {
        guard let chunks = chunkDecoder else { return }
        if chunks.isLast {
            flushRenamer(context: context)
            if checksFromHeader {
                checkFromHeader(then: [], after: .chunkEnded, context: context)
                return
            }
            chunkDecoder = nil
            finishData(outcome: chunks.outcome, context: context)
        } else {
            perform(session.chunkReceived(chunks.outcome), context: context)
        }
    }

    func writeToSubmission(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard let submission, let chain = writeChain else { return }
        // Nothing queued before these bytes and they fit in memory: no task hop.
        if inFlight == 0 && writeFailed == nil && submission.writeInMemory(bytes) { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let count = bytes.count
        inFlight += count
        updateReading(context: context)
        writeChain = chain.flatMap {
            loop.makeFutureWithTask { try await submission.write(bytes) }
        }.flatMapErrorThrowing { error in
            bound.value.0.writeFailed = error
        }.map {
            let (handler, context) = bound.value
            handler.inFlight -= count
            handler.updateReading(context: context)
        }
    }

    /// Backpressure: stop reading while too much waits (message bytes for the queue, or input
    /// behind an async step); read again once both are below half their limit.
    func updateReading(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !readingPaused && (inFlight > Self.maxInFlight || pending.count > Self.maxPending) {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        } else if readingPaused && inFlight <= Self.maxInFlight / 2 && pending.count <= Self.maxPending / 2 {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    func finishData(outcome: DataDecoder.Outcome, context: ChannelHandlerContext) {
        guard let chain = writeChain else { return }
        waiting = true
        flush(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        chain.whenComplete { _ in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            if let error = handler.writeFailed {
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(Self.reply(for: error)), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong,
                      let trap = handler.session.currentTransaction?.recipients.first(where: {
                          handler.spamTrapRecipients.contains($0.0.address)
                              || handler.environment.senderPolicy.bofh.isSpamTrap($0.0.address)
                      }) {
                // spec/mta.md §2.12 DATA stage: a spam trap among the recipients refuses it all.
                handler.environment.logger.info("spamtrap,ip=[\(handler.clientIP)],to=\(trap.0.address): refused")
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(Replies.spamRefused), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong, let refusal = handler.headerInspector.verdict() {
                handler.environment.logger.info("error,relay=[\(handler.clientIP)],msg=\"\(refusal)\": refused")
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(refusal), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong, let refusal = handler.fromRefusal {
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(refusal), context: context)
            } else {
                handler.perform(handler.session.dataEnded(outcome), context: context)
            }
            handler.process(context: context)
        }
    }

    func commitSubmission(context: ChannelHandlerContext) {
        guard let submission else { return }
        self.submission = nil
        writeChain = nil
        // An in-memory message: the queue's flusher completes the promise right after the
        // fdatasync covering it, and 250 goes out from here (no task or actor hop).
        let promise = context.eventLoop.makePromise(of: Result<QueueID, QueueError>.self)
        if submission.commit(completion: { promise.succeed($0) }) {
            waiting = true
            flush(context: context)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { result in
                let (handler, context) = bound.value
                handler.waiting = false
                guard !handler.closed else { return }
                handler.committed(result, context: context)
                handler.process(context: context)
            }
            return
        }
        // Not taken (a spooled or oversized message): completed unused, so it is not leaked.
        promise.succeed(.failure(.temporaryFailure("not committed")))
        runAsync(context: context, { () -> Result<QueueID, QueueError> in
            do {
                return .success(try await submission.commit())
            } catch let error as QueueError {
                await submission.abort()
                return .failure(error)
            } catch {
                await submission.abort()
                return .failure(.temporaryFailure("\(error)"))
            }
        }, then: { handler, context, result in
            handler.committed(result, context: context)
        })
    }

    func committed(_ result: Result<QueueID, QueueError>, context: ChannelHandlerContext) {
        switch result {
        case .success(let id):
            tarpit.reset()
            // The 250 goes out first; the log line and counter need not delay it.
            perform(session.committed(id: id.rawValue), context: context)
            flush(context: context)
            let auth = session.authenticatedUser.map { ",auth=\($0)" } ?? ""
            environment.logger.info("newmsg,id=\(id)\(auth),from=\(clientIP): accepted")
            SMTPMetrics.messageAccepted()
        case .failure(let error):
            environment.logger.error("commit failed: \(error)")
            perform(session.commitFailed(Self.reply(for: error)), context: context)
        }
    }

    func abortSubmission() {
        decoder = nil
        chunkDecoder = nil
        writeChain = nil
        inFlight = 0
        if let context { updateReading(context: context) }
        guard let submission else { return }
        self.submission = nil
        Task { await submission.abort() }
    }

    static func reply(for error: Error) -> SMTPReply {
        switch error as? QueueError {
        case .insufficientStorage: Replies.mailSystemFull
        case .messageTooBig(let limit): Replies.messageTooBig(limit, limit: limit)
        default: Replies.submitFailed
        }
    }
}
