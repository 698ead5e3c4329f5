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

/// AUTH (RFC 4954) on a connection: runs the SASL exchange off the event loop and feeds the
/// outcome back to the session.
extension SMTPConnectionHandler {
    // MARK: AUTH (RFC 4954)

    func continueAuthentication(_ line: String, context: ChannelHandlerContext) {
        guard var exchange = authExchange else { return }
        let step = exchange.receive(line)
        authExchange = exchange
        performAuthentication(step, context: context)
    }

    func performAuthentication(_ step: SMTPAuthExchange.Step, context: ChannelHandlerContext) {
        guard let authenticator = environment.authenticator else { return }
        let clientIP = self.clientIP
        switch step {
        case .challenge(let reply):
            send(reply, context: context)
        case .verify(let credentials):
            let user: String
            switch credentials {
            case .password(let name, _), .cram(_, let name, _, _): user = name
            }
            runAsync(context: context, {
                await authenticator.verify(credentials, clientIP: clientIP, user: user)
            }, then: { handler, context, result in
                guard let exchange = handler.authExchange else { return }
                handler.performAuthentication(exchange.verified(result), context: context)
            })
        case .lookupExternal(let user):
            runAsync(context: context, {
                await authenticator.lookup(user: user)
            }, then: { handler, context, result in
                guard let exchange = handler.authExchange else { return }
                handler.performAuthentication(exchange.verified(result), context: context)
            })
        case .scramLookup(let algorithm, let user):
            runAsync(context: context, {
                await authenticator.scramCredentials(user: user, algorithm: algorithm, clientIP: clientIP)
            }, then: { handler, context, credentials in
                guard var exchange = handler.authExchange else { return }
                let next = exchange.provide(credentials)
                handler.authExchange = exchange
                handler.performAuthentication(next, context: context)
            })
        case .succeeded, .failed:
            endAuthentication(step, context: context)
        }
    }

    func endAuthentication(_ step: SMTPAuthExchange.Step, context: ChannelHandlerContext) {
        let mechanism = authExchange?.mechanism.rawValue ?? ""
        authExchange = nil
        let authenticator = environment.authenticator
        let clientIP = self.clientIP
        switch step {
        case .succeeded(let user):
            environment.logger.info("auth,relay=[\(clientIP)],mechanism=\(mechanism),user=\(user): authenticated")
            SMTPMetrics.authSucceeded()
            Task { await authenticator?.recordSuccess(clientIP: clientIP, user: user) }
            // spec/mta.md §2.17: a successful login clears BLOCK.
            block = ""
            perform(session.authenticated(as: user, mechanism: mechanism), context: context)
        case .failed(let reply, let user, let counts):
            // Courier logs the mechanism and the user id tried (spec/mta.md §2.9); a module that
            // could not answer (a 4xx reply) is not a failed password.
            let what = reply.code / 100 == 4 ? "authentication temporarily unavailable" : "authentication failed"
            environment.logger.info("error,relay=[\(clientIP)],\(what),mechanism=\(mechanism),user=\(user ?? "")")
            SMTPMetrics.authFailed()
            if counts { Task { await authenticator?.recordFailure(clientIP: clientIP, user: user) } }
            perform(session.authenticationEnded(reply), context: context)
        default:
            break
        }
    }

    /// Runs `work` off the event loop; input waits until `then` ran on the loop.
    func runAsync<T: Sendable>(context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                       then: @escaping (SMTPConnectionHandler, ChannelHandlerContext, T) -> Void) {
        waiting = true
        flush(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let future = context.eventLoop.makeFutureWithTask { await work() }
        let thenBound = NIOLoopBound(then, eventLoop: context.eventLoop)
        future.whenSuccess { value in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            thenBound.value(handler, context, value)
            handler.process(context: context)
        }
    }
}
